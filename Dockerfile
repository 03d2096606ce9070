FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_DEBUG=0
WORKDIR /app
COPY pyproject.toml README.md manage.py gunicorn.conf.py ./
COPY tickerarchive tickerarchive
COPY ingest ingest
COPY templates templates
COPY static static
RUN pip install --no-cache-dir . \
    && DATABASE_URL=postgres://build@localhost/build DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput --verbosity 0
RUN useradd --system --no-create-home archive
USER archive
EXPOSE 8000
CMD ["gunicorn", "tickerarchive.wsgi:application", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
