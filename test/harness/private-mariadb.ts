// The private MariaDB harness moved to load/harness/ (make demo DB=mysql-replica starts a replica pair with it,
// and production tooling never imports tests); tests keep importing it from here.
export * from '../../load/harness/private-mariadb.ts';
