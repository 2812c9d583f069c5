// Each server family's replication vocabulary in one module: what a token looks like, and how a replica is told
// to follow (MariaDB's CHANGE MASTER vs MySQL 8.4's CHANGE REPLICATION SOURCE, which removed the old words).
import { describe, expect, it } from 'vitest';
import { mariadbReplication } from '../../shared/db/replica/mariadb.ts';
import { mysqlReplication } from '../../shared/db/replica/mysql.ts';
import { normalizeToken } from '../../shared/db/replica/dialect.ts';

const primary = { host: 'mysql', port: 3306, user: 'repl', password: "it's" };

describe('replication dialects', () => {
  it('When a MariaDB GTID position is checked, then domain-server-sequence lists pass and anything else fails', () => {
    for (const token of ['0-1-42', '0-1-42,1-2-7']) expect(mariadbReplication.tokenPattern.test(token)).toBe(true);
    for (const token of ['', '0-1', "0-1-1' OR 1=1", '3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5']) expect(mariadbReplication.tokenPattern.test(token)).toBe(false);
  });

  it('When a MySQL GTID set is checked, then uuid:intervals lists (tags too) pass and anything else fails', () => {
    for (const token of ['3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5', '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7,4e11fa47-71ca-11e1-9e33-c80aa9429562:tag_1:1-3']) {
      expect(mysqlReplication.tokenPattern.test(token)).toBe(true);
    }
    for (const token of ['', '0-1-42', '3E11FA47-71CA-11E1-9E33-C80AA9429562', "3E11FA47-71CA-11E1-9E33-C80AA9429562:1' OR 1"]) expect(mysqlReplication.tokenPattern.test(token)).toBe(false);
  });

  it('When MySQL prints a GTID set over several lines, then the token is one line without spaces', () => {
    expect(normalizeToken('3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5,\n4E11FA47-71CA-11E1-9E33-C80AA9429562:1-3')).toBe('3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5,4E11FA47-71CA-11E1-9E33-C80AA9429562:1-3');
  });

  it('When a replica is told to follow, then each family uses its own words, GTID auto-positioning and quoted credentials', () => {
    expect(mariadbReplication.followSql(primary)).toEqual([
      "CHANGE MASTER TO MASTER_HOST='mysql', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='it''s', MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos",
      'START SLAVE',
    ]);
    const mysql = mysqlReplication.followSql(primary);
    expect(mysql[0]).toMatch(/^CHANGE REPLICATION SOURCE TO SOURCE_HOST='mysql', SOURCE_PORT=3306, SOURCE_USER='repl', SOURCE_PASSWORD='it''s',.* SOURCE_AUTO_POSITION=1/);
    expect(mysql[1]).toBe('START REPLICA');
    expect(mysql.join(' ')).not.toMatch(/MASTER|SLAVE/);
    expect([mysqlReplication.stopSqlThreadSql, mysqlReplication.statusSql]).toEqual(['STOP REPLICA SQL_THREAD', 'SHOW REPLICA STATUS']);
  });

  it('When a wait is given in ms, then MariaDB waits fractional seconds and MySQL whole seconds (its documented unit)', () => {
    expect(mariadbReplication.waitSeconds(250)).toBe(0.25);
    expect(mysqlReplication.waitSeconds(250)).toBe(1);
    expect(mysqlReplication.waitSeconds(1500)).toBe(2);
  });
});
