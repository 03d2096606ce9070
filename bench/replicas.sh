#!/usr/bin/env bash
# Load run: the search page on one gunicorn over one database, then on two gunicorns behind
# nginx (deploy/nginx.conf) reading from a streaming replica. One command, stops by itself:
#
#   bench/replicas.sh                       # ENTRIES=20000 DURATION=30 CONNECTIONS=8 WORKERS=2
#
# Needs the machine's PostgreSQL binaries, wrk and nginx (apt-get install wrk nginx-light).
# Loopback only; ports 54442/54443 (databases) and 8460-8470 (web). Prints the figures and
# writes them to bench/out/replicas-<time>.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

ENTRIES=${ENTRIES:-20000}
DURATION=${DURATION:-30}
CONNECTIONS=${CONNECTIONS:-8}
WORKERS=${WORKERS:-2}
PRIMARY_PORT=${PRIMARY_PORT:-54442}
REPLICA_PORT=${REPLICA_PORT:-54443}
SINGLE_PORT=8460 WEB_A_PORT=8461 WEB_B_PORT=8462 LB_PORT=8470
PY=.venv/bin/python

for tool in wrk nginx; do
    command -v "$tool" >/dev/null || { echo "needs $tool: apt-get install wrk nginx-light" >&2; exit 2; }
done
make venv >/dev/null

WORK=$(mktemp -d /tmp/tickerarchive-bench-XXXXXX)
chmod 755 "$WORK"  # the clusters below belong to the postgres user
mkdir -p bench/out
REPORT=bench/out/replicas-$(date -u +%Y%m%dT%H%M%SZ).txt
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    $PY -m tickerarchive.replicaset stop "$WORK/db" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

say() { echo "$*" | tee -a "$REPORT"; }
PSQL=(psql)
[ "$(id -u)" = 0 ] && PSQL=(runuser -u postgres -- psql)
psql_on() { "${PSQL[@]}" -h 127.0.0.1 -p "$1" -U postgres -d tickerarchive -tAXc "$2"; }
commits_on() { psql_on "$1" "SELECT xact_commit FROM pg_stat_database WHERE datname = 'tickerarchive'"; }

urls=$($PY -m tickerarchive.replicaset start "$WORK/db" --primary-port "$PRIMARY_PORT" --replica-port "$REPLICA_PORT")
eval "$urls"
PRIMARY_URL=$DATABASE_URL REPLICA_URL=$DATABASE_REPLICA_URLS
unset DATABASE_REPLICA_URLS
export DATABASE_URL=$PRIMARY_URL DJANGO_DEBUG=0

say "== $(date -u +%FT%TZ) $(nproc) cores, $(uname -m), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
$PY manage.py generate_dumps --entries "$ENTRIES" --seed 7 --out "$WORK/dumps" | tee -a "$REPORT"
$PY manage.py migrate --noinput --verbosity 0
$PY manage.py load_gazetteer >/dev/null
started=$(date +%s%N)
$PY manage.py ingest "$WORK/dumps" >/dev/null 2>&1
say "ingest on the primary: $(( ($(date +%s%N) - started) / 1000000 )) ms"
$PY manage.py collectstatic --noinput --verbosity 0
say "entries: $(psql_on "$PRIMARY_PORT" 'SELECT count(*) FROM tickerarchive_entry'), database: $(psql_on "$PRIMARY_PORT" "SELECT pg_size_pretty(pg_database_size('tickerarchive'))"), entry table with indexes: $(psql_on "$PRIMARY_PORT" "SELECT pg_size_pretty(pg_total_relation_size('tickerarchive_entry'))")"
target=$(psql_on "$PRIMARY_PORT" "SELECT pg_current_wal_lsn()")
until [ "$(psql_on "$REPLICA_PORT" "SELECT pg_last_wal_replay_lsn() >= '$target'")" = t ]; do sleep 0.2; done
say "replica caught up: $(psql_on "$REPLICA_PORT" "SELECT count(*) FROM tickerarchive_entry") entries"

gunicorn() {  # port, log name, extra environment...
    local port=$1 name=$2; shift 2
    env "$@" .venv/bin/gunicorn tickerarchive.wsgi:application --bind "127.0.0.1:$port" --workers "$WORKERS" \
        --log-file "$WORK/$name.log" &
    PIDS+=($!)
    until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.2; done
}

# CPU ticks used so far by the children of a process (gunicorn workers, PostgreSQL backends):
# those still running, plus those that ended (counted in the parent's cutime and cstime).
cpu_of_children() {
    local ticks child
    ticks=$(awk '{print $16 + $17}' "/proc/$1/stat")
    for child in $(pgrep -P "$1"); do
        ticks=$(( ticks + $(awk '{print $14 + $15}' "/proc/$child/stat" 2>/dev/null || echo 0) ))
    done
    echo "$ticks"
}
postmaster() { head -1 "$WORK/db/$1/postmaster.pid"; }

load() {  # label, port, gunicorn master pids...
    local label=$1 port=$2; shift 2
    local masters=("$@")
    curl -sf "http://127.0.0.1:$port/?q=Waffenruhe" >/dev/null  # warm: the first request of each worker connects
    wrk -t"$(( CONNECTIONS < 2 ? 1 : 2 ))" -c"$CONNECTIONS" -d5s --timeout 10s -s bench/search.lua "http://127.0.0.1:$port" >/dev/null
    local primary_before replica_before web_cpu=0 primary_cpu replica_cpu master result
    primary_before=$(commits_on "$PRIMARY_PORT") replica_before=$(commits_on "$REPLICA_PORT")
    for master in "${masters[@]}"; do web_cpu=$(( web_cpu - $(cpu_of_children "$master") )); done
    primary_cpu=$(( - $(cpu_of_children "$(postmaster primary)") )) replica_cpu=$(( - $(cpu_of_children "$(postmaster replica)") ))
    result=$(wrk -t"$(( CONNECTIONS < 2 ? 1 : 2 ))" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s bench/search.lua "http://127.0.0.1:$port" | grep '^RESULT')
    for master in "${masters[@]}"; do web_cpu=$(( web_cpu + $(cpu_of_children "$master") )); done
    primary_cpu=$(( primary_cpu + $(cpu_of_children "$(postmaster primary)") ))
    replica_cpu=$(( replica_cpu + $(cpu_of_children "$(postmaster replica)") ))
    sleep 1  # statistics reach pg_stat_database within a second
    say "$label: ${result#RESULT } transactions_on_primary=$(( $(commits_on "$PRIMARY_PORT") - primary_before )) transactions_on_replica=$(( $(commits_on "$REPLICA_PORT") - replica_before ))"
    say "    CPU seconds in the run: web $(( web_cpu / 100 )).$(( web_cpu % 100 / 10 )), primary $(( primary_cpu / 100 )).$(( primary_cpu % 100 / 10 )), replica $(( replica_cpu / 100 )).$(( replica_cpu % 100 / 10 )) (machine load $(cut -d' ' -f1 /proc/loadavg))"
}

say "-- search page, wrk ${DURATION}s, $CONNECTIONS connections, $WORKERS gunicorn workers per process"
gunicorn "$SINGLE_PORT" single DATABASE_URL="$PRIMARY_URL"
CONNECTIONS=1 load "one gunicorn, one database, one connection at a time" "$SINGLE_PORT" "${PIDS[@]}"
load "one gunicorn, one database" "$SINGLE_PORT" "${PIDS[@]}"
kill "${PIDS[@]}"; wait "${PIDS[@]}" 2>/dev/null || true; PIDS=()

replicas=(DATABASE_URL="$PRIMARY_URL" DATABASE_REPLICA_URLS="$REPLICA_URL")
gunicorn "$WEB_A_PORT" web-a "${replicas[@]}"
gunicorn "$WEB_B_PORT" web-b "${replicas[@]}"
mkdir -p "$WORK/nginx"
sed -e "s/server web-a:8000/server 127.0.0.1:$WEB_A_PORT/" -e "s/server web-b:8000/server 127.0.0.1:$WEB_B_PORT/" \
    -e "s/listen 80;/listen 127.0.0.1:$LB_PORT;/" deploy/nginx.conf > "$WORK/nginx/site.conf"
cat > "$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    proxy_max_temp_file_size 0;  # workers run as nobody and cannot write below $WORK
    client_body_temp_path $WORK/nginx/body; proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi; uwsgi_temp_path $WORK/nginx/uwsgi; scgi_temp_path $WORK/nginx/scgi;
    include $WORK/nginx/site.conf;
}
EOF
nginx -t -q -c "$WORK/nginx/nginx.conf"
nginx -c "$WORK/nginx/nginx.conf" -g "daemon off;" &
PIDS+=($!)
until curl -sf "http://127.0.0.1:$LB_PORT/healthz" >/dev/null; do sleep 0.2; done
say "healthz behind nginx: $(curl -s "http://127.0.0.1:$LB_PORT/healthz")"
load "two gunicorns behind nginx, primary + replica" "$LB_PORT" "${PIDS[@]:0:2}"
say "report: $REPORT"
