#!/bin/sh
# The primary's first start (mysql image, /docker-entrypoint-initdb.d): the least-privilege accounts of
# deploy/database/accounts.sh (mounted at /opt/accounts), created as root. v1's column rights come later, from the
# db-grants service, once the migration created the tables. Sourced by the entrypoint (not executable): the body
# runs in a subshell without `set -u`, like docker/replica/10-follow-primary.sh, so no shell option leaks into the
# entrypoint and its docker_process_sql (which reads "$1" unset) works.
create_accounts() (
set -e
APP_DATABASE="$MYSQL_DATABASE" sh /opt/accounts/accounts.sh accounts | docker_process_sql
echo "accounts: migrator, app_v1, app_v2, cli, replica_reader created"
)
create_accounts
