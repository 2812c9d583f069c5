#!/bin/bash
# The read replica's one-time set-up (MySQL 8.4, GTID replication), run by the mysql image's entrypoint from
# /docker-entrypoint-initdb.d the first time the replica's data directory is initialised:
#   1. GTIDs on the primary, online if it runs without them (OFF -> OFF_PERMISSIVE -> ON_PERMISSIVE -> ON, the
#      documented sequence; SET PERSIST keeps them across restarts);
#   2. a replication user on the primary;
#   3. a consistent dump of the app database with the GTID set it corresponds to (gtid_purged), loaded here:
#      rows written before GTIDs were on (the migrations) come with it, so auto-positioning has no gap;
#   4. follow the primary by GTID auto-position (the statement shared/db/replica/mysql.ts followSql writes;
#      test/replica/docker.test.ts keeps the two the same), create the replica_reader account (SELECT only:
#      every app and tool reads the replica with it), and make the replica read-only for everyone else.
# Sourced by the entrypoint (not executable), which provides docker_process_sql (SQL on this server). So the body
# runs in a subshell: its shell options must not leak into the entrypoint, and it runs without `set -u`, because
# the entrypoint's own docker_process_sql and _mysql_passfile read "$1" unset (test/template/replica-init.test.ts
# runs this file inside a stand-in of that entrypoint). Our own required variables are checked with ${VAR:?}.
follow_primary() (
set -eo pipefail

PRIMARY_HOST="${PRIMARY_HOST:-mysql}"
PRIMARY_PORT="${PRIMARY_PORT:-3306}"
REPLICATION_USER="${REPLICATION_USER:-repl}"
: "${PRIMARY_ROOT_PASSWORD:?PRIMARY_ROOT_PASSWORD must be set}"
: "${REPLICATION_PASSWORD:?REPLICATION_PASSWORD must be set}"
: "${MYSQL_DATABASE:?MYSQL_DATABASE must be set}"
: "${REPLICA_READER_PASSWORD:?REPLICA_READER_PASSWORD must be set}"

primary() { MYSQL_PWD="$PRIMARY_ROOT_PASSWORD" mysql --protocol=tcp -h "$PRIMARY_HOST" -P "$PRIMARY_PORT" -uroot -N "$@"; }

for attempt in $(seq 1 60); do
  if primary -e 'SELECT 1' >/dev/null 2>&1; then break; fi
  if [ "$attempt" = 60 ]; then echo "replica init: primary $PRIMARY_HOST:$PRIMARY_PORT unreachable for 60 s" >&2; exit 1; fi
  sleep 1
done

mode="$(primary -e 'SELECT @@GLOBAL.gtid_mode')"
if [ "$mode" != "ON" ]; then
  echo "replica init: turning GTIDs on at the primary (gtid_mode was $mode)"
  primary -e 'SET PERSIST enforce_gtid_consistency = ON'
  if [ "$mode" = "OFF" ]; then primary -e 'SET PERSIST gtid_mode = OFF_PERMISSIVE'; fi
  if [ "$mode" = "OFF" ] || [ "$mode" = "OFF_PERMISSIVE" ]; then primary -e 'SET PERSIST gtid_mode = ON_PERMISSIVE'; fi
  # ON only once no transaction without a GTID is still running.
  until [ "$(primary -e "SHOW GLOBAL STATUS LIKE 'Ongoing_anonymous_transaction_count'" | awk '{print $2}')" = "0" ]; do sleep 1; done
  primary -e 'SET PERSIST gtid_mode = ON'
fi

primary -e "CREATE USER IF NOT EXISTS '${REPLICATION_USER}'@'%' IDENTIFIED BY '${REPLICATION_PASSWORD}'; GRANT REPLICATION SLAVE ON *.* TO '${REPLICATION_USER}'@'%'"

echo "replica init: loading a consistent dump of ${MYSQL_DATABASE} from the primary"
# The dump sets gtid_purged to the primary's GTID set: this server must have none of its own.
docker_process_sql <<< 'RESET BINARY LOGS AND GTIDS'
MYSQL_PWD="$PRIMARY_ROOT_PASSWORD" mysqldump --protocol=tcp -h "$PRIMARY_HOST" -P "$PRIMARY_PORT" -uroot \
  --single-transaction --set-gtid-purged=ON --databases "$MYSQL_DATABASE" | docker_process_sql

docker_process_sql <<SQL
CHANGE REPLICATION SOURCE TO SOURCE_HOST='${PRIMARY_HOST}', SOURCE_PORT=${PRIMARY_PORT}, SOURCE_USER='${REPLICATION_USER}', SOURCE_PASSWORD='${REPLICATION_PASSWORD}', SOURCE_CONNECT_RETRY=1, SOURCE_AUTO_POSITION=1, GET_SOURCE_PUBLIC_KEY=1;
START REPLICA;
CREATE USER IF NOT EXISTS 'replica_reader'@'%' IDENTIFIED BY '${REPLICA_READER_PASSWORD}';
GRANT SELECT ON \`${MYSQL_DATABASE}\`.* TO 'replica_reader'@'%';
SET PERSIST super_read_only = ON;
SQL
echo "replica init: following ${PRIMARY_HOST}:${PRIMARY_PORT} by GTID"
)
follow_primary
