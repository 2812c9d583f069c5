#!/usr/bin/env bash
# The template's CI walks the whole rollout against the compose stack (.github/workflows/ci.yml, job compose):
# the load scenario runs through nginx in the background while this script drives the `cli` service through the
# steps of docs/docker-compose.md's table; the load's exit code (the checker's verdict) is the script's.
# Needs a running stack (`docker compose up -d --wait`) and .env. Never run in this project's own CI (no Docker
# engine there): test/template/compose.test.ts checks its syntax and that every tool it names exists.
set -euo pipefail
cd "$(dirname "$0")/../.."

cli() { echo "+ cli $*"; docker compose --profile tools run --rm -T cli "$@"; }
LOAD_SECONDS="${LOAD_SECONDS:-240}"

echo "walk-rollout: load for ${LOAD_SECONDS} s through nginx, judged by the checker at the end"
LOAD_SECONDS="$LOAD_SECONDS" docker compose --profile load run --rm -T load > load.log 2>&1 &
load_pid=$!

cli rollout status || true
cli flags set dual-read true                            # step 4: dual-read
docker compose stop app-v1-a app-v1-b                        # step 5: retire v1 (each drains on SIGTERM)
cli backfill                                                 # step 6
cli verify                                                   # step 7
for percent in 1 10 50 100; do cli rollout advance --percent "$percent"; done   # step 8: read shift
cli rollout advance                                          # step 9: live
cli db-migrate up                                            # 007: old columns nullable
cli rollout advance                                          # step 10: new-only
cli db-contract                                              # step 11: contract
cli rollout status

echo "walk-rollout: waiting for the load's verdict"
status=0
wait "$load_pid" || status=$?
cat load.log
exit "$status"
