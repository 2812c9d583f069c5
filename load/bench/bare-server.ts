// make bench, part `memory`: the floor. A bare Express + mysql2 server doing v1's work for the bench's GET/PUT mix
// (one SELECT per GET, one UPDATE per PUT, on the old columns) with the apps' pool size and driver settings, and
// nothing else: no flags, registry, lease, metrics, logging, validation or ORM. It imports no project module, so
// what it holds is what Node 20, Express and mysql2 hold under the same load at default V8 settings: the memory
// and CPU per request an instance cannot go below with this stack. Built into the compiled build
// (tsconfig.build.json) and run with plain node, like the instances it is compared with.
//   DATABASE_URL=mysql://… DB_POOL_MAX=20 PORT=0 node dist/load/bench/bare-server.js
import type { AddressInfo } from 'node:net';
import express from 'express';
import mysql from 'mysql2/promise';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';

const url = process.env.DATABASE_URL;
if (!url?.startsWith('mysql://')) {
  console.error('bare-server: DATABASE_URL must be a mysql:// URL');
  process.exit(2);
}
const pool = mysql.createPool({
  uri: url,
  connectionLimit: Number(process.env.DB_POOL_MAX ?? 20),
  // As shared/db/connection.ts sets them for the apps.
  flags: ['+FOUND_ROWS'],
  charset: 'utf8mb4',
  dateStrings: true,
  maxPreparedStatements: 128,
});

const app = express();
app.use(express.json({ limit: '16kb' }));
app.get('/users/:id', async (req, res) => {
  const [rows] = await pool.execute<RowDataPacket[]>('SELECT id, name, email FROM users WHERE id = ?', [req.params.id]);
  if (rows.length === 0) return void res.status(404).json({ error: { code: 'not_found', message: 'no such user', details: null } });
  res.json(rows[0]);
});
app.put('/users/:id', async (req, res) => {
  const { name, email } = req.body as { name?: unknown; email?: unknown };
  if (typeof name !== 'string' || typeof email !== 'string') return void res.status(400).json({ error: { code: 'invalid_body', message: 'name and email must be strings', details: null } });
  const [result] = await pool.execute<ResultSetHeader>('UPDATE users SET name = ?, email = ? WHERE id = ?', [name, email, req.params.id]);
  if (result.affectedRows === 0) return void res.status(404).json({ error: { code: 'not_found', message: 'no such user', details: null } });
  res.json({ id: Number(req.params.id), name, email });
});

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`bare instance listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
const stop = () => server.close(() => void pool.end().then(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
