#!/bin/sh
# Least-privilege database accounts for the rollout, as SQL on stdout for an administrator to run (MySQL 8.4,
# MariaDB 10.6+). A migration cannot do this: it runs as the migrator, which may change the schema but not grant.
#   deploy/database/accounts.sh accounts | mysql -uroot   once, before the first migration: the five accounts
#   deploy/database/accounts.sh grants   | mysql -uroot   after db:migrate (to 005-rollout-log or later): v1's
#                                                         table and column rights (MySQL grants only on tables
#                                                         that exist)
#   migrator        schema changes (ALTER, CREATE, DROP, INDEX, TRIGGER, ...) and DML on the app database: db:migrate,
#                   db:contract (and the reverse backfill its down runs)
#   app_v1          the old columns of users only (id, name, email, created_at, updated_at: never profile_data) and
#                   DML on the rollout's own tables (registry, flags, rollout log, checkpoints); no DDL
#   app_v2          DML on every table of the app database; no DDL
#   cli             DML on every table (flags, backfill, verify, rollout, status); no DDL but TRIGGER: `rollout
#                   advance` to live installs the sync "up" trigger (the fence) and rollback below live drops it
#                   (shared/rollout/transitions.ts); with binary logging on, CREATE TRIGGER also needs SUPER or
#                   log_bin_trust_function_creators=1 (docs/sync-strategies.md)
#   replica_reader  SELECT on the app database (the apps' and tools' reads on a replica)
# Environment: APP_DATABASE (default app); MIGRATOR_PASSWORD, APP_V1_PASSWORD, APP_V2_PASSWORD, CLI_PASSWORD,
# REPLICA_READER_PASSWORD (for `accounts`; letters and digits); ACCOUNT_PREFIX (default none; tests use a unique one);
# ACCOUNT_HOST (default %). test/deploy/accounts.test.ts runs both parts on MariaDB and checks each account.
set -eu

db="${APP_DATABASE:-app}"
prefix="${ACCOUNT_PREFIX:-}"
host="${ACCOUNT_HOST:-%}"
fail() { echo "accounts.sh: $*" >&2; exit 2; }
printf '%s' "$db$prefix" | grep -Eq '^[A-Za-z0-9_]+$' || fail "APP_DATABASE and ACCOUNT_PREFIX: letters, digits and _ only"
printf '%s' "$host" | grep -Eq '^[A-Za-z0-9_.%-]+$' || fail "ACCOUNT_HOST: a host name, address or %"
account() { printf "'%s%s'@'%s'" "$prefix" "$1" "$host"; }

case "${1:-}" in
  accounts)
    for pair in migrator:MIGRATOR_PASSWORD app_v1:APP_V1_PASSWORD app_v2:APP_V2_PASSWORD cli:CLI_PASSWORD replica_reader:REPLICA_READER_PASSWORD; do
      variable="${pair#*:}"
      eval "password=\"\${$variable:-}\""
      printf '%s' "$password" | grep -Eq '^[A-Za-z0-9]{16,}$' || fail "$variable: at least 16 letters and digits (docker/new-env.sh writes one)"
      echo "CREATE USER IF NOT EXISTS $(account "${pair%%:*}") IDENTIFIED BY '$password';"
    done
    echo "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX, REFERENCES, TRIGGER, CREATE VIEW, SHOW VIEW, LOCK TABLES ON \`$db\`.* TO $(account migrator);"
    echo "GRANT SELECT, INSERT, UPDATE, DELETE ON \`$db\`.* TO $(account app_v2);"
    echo "GRANT SELECT, INSERT, UPDATE, DELETE, TRIGGER ON \`$db\`.* TO $(account cli);"
    echo "GRANT SELECT ON \`$db\`.* TO $(account replica_reader);"
    ;;
  grants)
    # users: the old columns only. UPDATE ... WHERE id = ? needs SELECT on id; v1 never deletes a user.
    echo "GRANT SELECT (id, name, email, created_at, updated_at), INSERT (name, email, created_at, updated_at), UPDATE (name, email, updated_at) ON \`$db\`.users TO $(account app_v1);"
    for table in app_instances flags flag_set backfill_runs verify_runs rollout_events; do
      echo "GRANT SELECT, INSERT, UPDATE, DELETE ON \`$db\`.$table TO $(account app_v1);"
    done
    echo "GRANT SELECT ON \`$db\`.schema_migrations TO $(account app_v1);"
    ;;
  *) fail "usage: accounts.sh accounts|grants" ;;
esac
