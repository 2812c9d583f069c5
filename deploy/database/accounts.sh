#!/bin/sh
# Least-privilege database accounts for the rollout, as SQL on stdout for an administrator to run (MySQL 8.4,
# MariaDB 10.6+). A migration cannot do this: it runs as the migrator, which may change the schema but not grant.
#   deploy/database/accounts.sh accounts | mysql -uroot   once, before the first migration: the five accounts
#   deploy/database/accounts.sh grants   | mysql -uroot   after db:migrate (to 005-rollout-log or later): v1's
#                                                         table and column rights (MySQL grants only on tables
#                                                         that exist)
#   migrator        schema changes (ALTER, CREATE, DROP, INDEX, TRIGGER, ...) and DML on the app database: db:migrate,
#                   db:contract (and the reverse backfill its down runs)
#   app_v1          the old columns of the migrated table only (users: id, name, email, created_at, updated_at;
#                   never profile_data), DELETE of its rows, and DML on the rollout's own tables (registry, flags,
#                   rollout log, checkpoints); no DDL
#   app_v2          DML on every table of the app database; no DDL
#   cli             DML on every table (flags, backfill, verify, rollout, status); no DDL but TRIGGER: `rollout
#                   advance` to live installs the sync "up" trigger (the fence) and rollback below live drops it
#                   (shared/rollout/transitions.ts); with binary logging on, CREATE TRIGGER also needs SUPER or
#                   log_bin_trust_function_creators=1 (docs/sync-strategies.md)
#   replica_reader  SELECT on the app database (the apps' and tools' reads on a replica)
# Environment: APP_DATABASE (default app); APP_TABLE, APP_KEY, APP_OLD_COLUMNS (comma-separated) and APP_KEY_BY_APP
# (1 when the app assigns the key, a UUID: v1 then inserts it) describe the migrated table, as the mapping does
# (default users, id, name,email, 0; load/run/accounts.ts passes the active mapping's); MIGRATOR_PASSWORD, APP_V1_PASSWORD, APP_V2_PASSWORD, CLI_PASSWORD,
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
table="${APP_TABLE:-users}"
key="${APP_KEY:-id}"
old="${APP_OLD_COLUMNS:-name,email}"
printf '%s' "$table,$key,$old" | grep -Eq '^[a-z_][a-z0-9_]*(,[a-z_][a-z0-9_]*)*$' || fail "APP_TABLE, APP_KEY, APP_OLD_COLUMNS: lower-case SQL names (the old columns comma-separated)"
case "${APP_KEY_BY_APP:-0}" in 0) inserted="" ;; 1) inserted="$key, " ;; *) fail "APP_KEY_BY_APP: 0 or 1" ;; esac
old_list=$(printf '%s' "$old" | sed 's/,/, /g')

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
    # The migrated table: its old columns only. UPDATE/DELETE ... WHERE id = ? needs SELECT on id; DELETE is a
    # whole-row right (a row has no columns left to keep once it is gone).
    echo "GRANT SELECT ($key, $old_list, created_at, updated_at), INSERT ($inserted$old_list, created_at, updated_at), UPDATE ($old_list, updated_at), DELETE ON \`$db\`.$table TO $(account app_v1);"
    for table in app_instances flags flag_set backfill_runs verify_runs rollout_events; do
      echo "GRANT SELECT, INSERT, UPDATE, DELETE ON \`$db\`.$table TO $(account app_v1);"
    done
    echo "GRANT SELECT ON \`$db\`.schema_migrations TO $(account app_v1);"
    ;;
  *) fail "usage: accounts.sh accounts|grants" ;;
esac
