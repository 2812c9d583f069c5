#!/usr/bin/env bash
# The template CI's MySQL 8.4 primary/replica pair for test/replica (job replica-mysql-8): two mysql:8.4
# containers on a network of their own, GTIDs on, the replica following the primary by GTID auto-position with
# the statement shared/db/replica/mysql.ts followSql writes (test/template/compose.test.ts keeps them the same).
# Both start empty with the same image initialisation, so the replica is told it already has what the primary
# did so far (gtid_purged) and then follows from there.
#   docker/ci/replica-pair.sh up     then: REPLICA_PAIR_PRIMARY_URL=mysql://root@127.0.0.1:3307/
#                                          REPLICA_PAIR_REPLICA_URL=mysql://root@127.0.0.1:3308/ npx vitest run test/replica/...
#   docker/ci/replica-pair.sh down
# Root has no password: the pair is the job's own, published on the runner's loopback only, and gone after it.
# Never run in this project's own CI (no Docker engine there).
set -euo pipefail
NETWORK=dwdr-replica-pair
PRIMARY=dwdr-mysql-primary
REPLICA=dwdr-mysql-replica
PRIMARY_PORT="${PRIMARY_PORT:-3307}"
REPLICA_PORT="${REPLICA_PORT:-3308}"

sql() { docker exec "$1" mysql --protocol=tcp -h 127.0.0.1 -uroot -N -e "$2"; }

wait_ready() {
  # TCP on 127.0.0.1: the image's temporary init server listens only on its socket, so this answers only once
  # the real server is up.
  for _ in $(seq 1 90); do
    if docker exec "$1" mysqladmin --protocol=tcp -h 127.0.0.1 -uroot ping --silent >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "replica-pair: $1 did not come up within 90 s" >&2
  docker logs "$1" >&2 || true
  return 1
}

case "${1:-}" in
  up)
    docker network create "$NETWORK" >/dev/null
    for server in "$PRIMARY:1:$PRIMARY_PORT" "$REPLICA:2:$REPLICA_PORT"; do
      IFS=: read -r name id port <<< "$server"
      docker run -d --name "$name" --network "$NETWORK" -p "127.0.0.1:$port:3306" \
        -e MYSQL_ALLOW_EMPTY_PASSWORD=yes -e MYSQL_ROOT_HOST=% \
        mysql:8.4 --server-id="$id" --log-bin=binlog --gtid-mode=ON --enforce-gtid-consistency=ON >/dev/null
    done
    wait_ready "$PRIMARY"
    wait_ready "$REPLICA"
    executed="$(sql "$PRIMARY" 'SELECT @@GLOBAL.gtid_executed' | tr -d '\n')"
    sql "$REPLICA" "RESET BINARY LOGS AND GTIDS; SET GLOBAL gtid_purged = '$executed'"
    sql "$REPLICA" "CHANGE REPLICATION SOURCE TO SOURCE_HOST='$PRIMARY', SOURCE_PORT=3306, SOURCE_USER='root', SOURCE_PASSWORD='', SOURCE_CONNECT_RETRY=1, SOURCE_AUTO_POSITION=1, GET_SOURCE_PUBLIC_KEY=1; START REPLICA"
    for _ in $(seq 1 60); do
      running="$(sql "$REPLICA" 'SHOW REPLICA STATUS\G' | grep -c -E 'Replica_(IO|SQL)_Running: Yes$' || true)"
      if [ "$running" = 2 ]; then
        echo "replica-pair: $REPLICA (127.0.0.1:$REPLICA_PORT) follows $PRIMARY (127.0.0.1:$PRIMARY_PORT) by GTID"
        exit 0
      fi
      sleep 1
    done
    echo "replica-pair: the replica did not start replicating within 60 s" >&2
    sql "$REPLICA" 'SHOW REPLICA STATUS\G' >&2 || true
    exit 1
    ;;
  down)
    docker rm -f "$PRIMARY" "$REPLICA" >/dev/null 2>&1 || true
    docker network rm "$NETWORK" >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: docker/ci/replica-pair.sh up|down" >&2
    exit 2
    ;;
esac
