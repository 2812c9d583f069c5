// make demo: the rollout on one machine. Today: a fresh database at the base schema, the expand migration,
// one v1 and one v2 instance side by side, a write through each read through the other, and the registry.
// (The demo issue grows this into the full rollout under load behind nginx, with the consistency checker.)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startInstanceProcess } from './instances.ts';
import type { InstanceProcess } from './instances.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const RESULTS_DIR = path.resolve(process.env.RESULTS_DIR || 'results');
const dataDir = path.join(RESULTS_DIR, 'demo-data');
fs.rmSync(dataDir, { recursive: true, force: true });
fs.mkdirSync(dataDir, { recursive: true });
const DATABASE_URL = `sqlite:${path.join(dataDir, 'demo.sqlite')}`;
const env = { ...process.env, DATABASE_URL };

const npm = (...args: string[]) => execFileSync(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env, encoding: 'utf8' });
const step = (n: number, title: string) => console.log(`\n== step ${n}: ${title}`);

async function http(method: string, url: string, body?: object) {
  const response = await fetch(url, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  const json = (await response.json()) as Record<string, unknown>;
  const via = `${response.headers.get('x-app-version')}${response.headers.get('x-read-source') ? ` (read source: ${response.headers.get('x-read-source')})` : ''}`;
  return { status: response.status, json, via };
}

const instances: InstanceProcess[] = [];
try {
  step(0, 'base schema, v1 serving');
  process.stdout.write(npm('cli/db-migrate.ts', 'up', '--to', '001-base'));
  const v1 = await startInstanceProcess('v1', { DATABASE_URL });
  instances.push(v1);
  console.log(`v1 at ${v1.url}`);
  const alice = await http('POST', `${v1.url}/users`, { name: 'Alice', email: 'alice@example.test' });
  console.log(`POST via ${alice.via}: ${alice.status} ${JSON.stringify(alice.json)}`);

  step(1, 'expand: add profile_data online (v1 keeps serving)');
  process.stdout.write(npm('cli/db-migrate.ts', 'up'));

  step(2, 'dual-write: start v2 beside v1');
  const v2 = await startInstanceProcess('v2', { DATABASE_URL });
  instances.push(v2);
  console.log(`v2 at ${v2.url}`);

  step(3, 'cross-version visibility');
  const bob = await http('POST', `${v2.url}/users`, { name: 'Bob', email: 'bob@example.test' });
  console.log(`POST via ${bob.via}: ${JSON.stringify(bob.json)}`);
  const bobViaV1 = await http('GET', `${v1.url}/users/${bob.json.id}`);
  console.log(`GET via ${bobViaV1.via}: ${JSON.stringify(bobViaV1.json)}`);
  const aliceViaV2 = await http('GET', `${v2.url}/users/${alice.json.id}`);
  console.log(`GET via ${aliceViaV2.via}: ${JSON.stringify(aliceViaV2.json)}`);
  const renamed = await http('PUT', `${v1.url}/users/${bob.json.id}`, { name: 'Robert', email: 'robert@example.test' });
  console.log(`PUT via ${renamed.via}: ${JSON.stringify(renamed.json)}`);
  const robertViaV2 = await http('GET', `${v2.url}/users/${bob.json.id}`);
  console.log(`GET via ${robertViaV2.via}: ${JSON.stringify(robertViaV2.json)}`);
  const ok = bobViaV1.json.name === 'Bob' && aliceViaV2.json.name === 'Alice' && robertViaV2.json.name === 'Robert';

  step(4, 'which instance runs which version');
  process.stdout.write(npm('cli/status.ts'));

  console.log(`\n${ok ? 'OK' : 'FAILED'}: every write was visible through the other version.`);
  process.exitCode = ok ? 0 : 1;
} finally {
  await Promise.all(instances.map((i) => i.stop('SIGTERM')));
}
