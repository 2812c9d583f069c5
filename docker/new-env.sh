#!/bin/sh
# The compose stack's secrets: one fresh random password per database account, for the .env file docker compose
# reads beside docker-compose.yml. docker-compose.yml has no default password: without .env it refuses to start.
#   docker/new-env.sh > .env        (.env is in .gitignore; keep it out of any image and any commit)
set -eu
password() { od -An -N18 -tx1 /dev/urandom | tr -d ' \n'; }
for name in MYSQL_ROOT_PASSWORD MYSQL_REPLICA_ROOT_PASSWORD REPLICATION_PASSWORD MIGRATOR_PASSWORD APP_V1_PASSWORD APP_V2_PASSWORD CLI_PASSWORD REPLICA_READER_PASSWORD; do
  printf '%s=%s\n' "$name" "$(password)"
done
