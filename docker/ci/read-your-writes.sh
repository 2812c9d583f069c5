#!/usr/bin/env bash
# The template's CI checks read-your-writes on a real MySQL 8.4 primary/replica pair (job compose-replica):
# the stack runs with the `replica` profile and docker/replica/compose.apps.yml (the apps read from the replica),
# the replica's SQL thread is stopped so it lags for sure, and a user written through nginx must still be read
# back at once when the read carries the write's X-Consistency-Token (the app waits for the replica, then falls
# back to the primary: shared/db/replica/read-your-writes.ts). Then the replica catches up and verify --replica
# finds no drift. Never run in this project's own CI (no Docker engine there).
set -euo pipefail
cd "$(dirname "$0")/../.."
compose=(docker compose -f docker-compose.yml -f docker/replica/compose.apps.yml --profile replica)
replica_sql() { "${compose[@]}" exec -T mysql-replica sh -c 'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mysql -uroot -e "$0"' "$1"; }
BALANCER="http://127.0.0.1:${BALANCER_PORT:-8080}"

replica_sql 'STOP REPLICA SQL_THREAD'
trap "replica_sql 'START REPLICA SQL_THREAD'" EXIT
name="ryw-$(date +%s)-$RANDOM"
headers="$(mktemp)"
body="$(curl -sS -D "$headers" -X POST "$BALANCER/users" -H 'content-type: application/json' -d "{\"name\":\"$name\",\"email\":\"$name@example.test\"}")"
id="$(printf '%s' "$body" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')"
token="$(sed -n 's/^[Xx]-[Cc]onsistency-[Tt]oken: *//p' "$headers" | tr -d '\r')"
[ -n "$id" ] && [ -n "$token" ] || { echo "read-your-writes: the write answered no id or no token: $body" >&2; exit 1; }

read_back="$(curl -sS "$BALANCER/users/$id" -H "X-Consistency-Token: $token")"
case "$read_back" in
  *"\"$name\""*) echo "read-your-writes: user $id read back while the replica lagged" ;;
  *) echo "read-your-writes: user $id not read back with its token while the replica lagged: $read_back" >&2; exit 1 ;;
esac

replica_sql 'START REPLICA SQL_THREAD'
trap - EXIT
"${compose[@]}" --profile tools run --rm -T cli verify --replica
