#!/bin/sh
# A streaming replica of the `primary` service. On its first start the volume is empty: copy
# the primary with pg_basebackup -R, which also writes standby.signal and primary_conninfo, so
# PostgreSQL starts as a hot standby and streams from then on. Runs as the postgres user.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_isready -q -h primary -U replicator; do sleep 1; done
    PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup -h primary -U replicator -D "$PGDATA" -R -X stream -c fast
    chmod 700 "$PGDATA"
fi
exec docker-entrypoint.sh postgres
