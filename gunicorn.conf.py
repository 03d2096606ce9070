"""How gunicorn serves the archive: `make run`, the Docker image and bench/web.py use this file.

Each worker serves one request at a time and takes a connection only while it is free, and
closes it after the answer: a request then waits in the listening socket for whichever worker
is free first. A page missing from the page cache (up to a second at a million entries) so
holds up no request but its own. With threads and kept-alive connections each worker queued
the requests of its own connections behind a slow one: at 1,000,000 entries that gave a p95
of 4.3 s and statement timeouts; served as below, 28 ms (bench/RESULTS.md, "HTTP").

gthread rather than the sync worker, although one thread: its main thread keeps telling the
arbiter that the worker is alive while an export streams for minutes, where a sync worker
would be killed after `timeout`.

WEB_CONCURRENCY sets the number of workers (gunicorn's own variable; default 2 per core).
"""
import multiprocessing
import os

workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count())
worker_class = "gthread"
threads = 1
worker_connections = 1  # accept only when free: no connection waits behind a busy worker
keepalive = 0  # and give the connection back: the next request goes to any free worker
