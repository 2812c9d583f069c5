#!/bin/bash
# A stand-in for the mysql:8.4 image's docker-entrypoint.sh, reduced to what an init script meets: the
# entrypoint's shell options (set -eo pipefail, no -u), its docker_process_sql and _mysql_passfile as the image
# defines them (docker-library/mysql, docker-entrypoint.sh), the loop that SOURCES a non-executable *.sh from
# /docker-entrypoint-initdb.d, and the step after it that reads a variable the image leaves unset
# (mysql_expire_root_user reads $MYSQL_ONETIME_PASSWORD). `mysql` and `mysqldump` are whatever is first on PATH
# (the test puts fakes there). Usage: mysql-entrypoint.sh INIT_SCRIPT...
set -eo pipefail
shopt -s nullglob

SOCKET=/var/run/mysqld/mysqld.sock

mysql_note() { printf '[Entrypoint]: %s\n' "$*"; }

_mysql_passfile() {
	if [ '--dont-use-mysql-root-password' != "$1" ] && [ -n "$MYSQL_ROOT_PASSWORD" ]; then
		cat <<-EOF2
			[client]
			password="${MYSQL_ROOT_PASSWORD}"
		EOF2
	fi
}

docker_process_sql() {
	passfileArgs=()
	if [ '--dont-use-mysql-root-password' = "$1" ]; then
		passfileArgs+=( "$1" )
		shift
	fi
	if [ -n "$MYSQL_DATABASE" ]; then
		set -- --database="$MYSQL_DATABASE" "$@"
	fi
	mysql --defaults-extra-file=<( _mysql_passfile "${passfileArgs[@]}") --protocol=socket -uroot -hlocalhost --socket="${SOCKET}" --comments "$@"
}

docker_process_init_files() {
	local f
	for f; do
		case "$f" in
			*.sh)
				if [ -x "$f" ]; then
					mysql_note "$0: running $f"
					"$f"
				else
					mysql_note "$0: sourcing $f"
					. "$f"
				fi
				;;
			*.sql) mysql_note "$0: running $f"; docker_process_sql < "$f" ;;
		esac
	done
}

mysql_expire_root_user() {
	if [ -n "$MYSQL_ONETIME_PASSWORD" ]; then
		docker_process_sql <<<"ALTER USER 'root'@'%' PASSWORD EXPIRE;"
	fi
}

docker_process_init_files "$@"
mysql_expire_root_user
mysql_note 'MySQL init process done. Ready for start up.'
