// docker-compose for the template tests: where it is (Debian's docker-compose; REQUIRE_COMPOSE=1 makes its
// absence a failure), the .env docker/new-env.sh writes (compose has no default passwords), and `config` parsed
// into an object, so tests read services and fields instead of matching YAML text.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);

export const dockerCompose = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'docker-compose')).find((file) => fs.existsSync(file)) ?? null;
if (!dockerCompose && process.env.REQUIRE_COMPOSE === '1') throw new Error('docker-compose not found on PATH (REQUIRE_COMPOSE=1; Debian: apt-get install docker-compose)');

/** What `docker/new-env.sh > .env` would write, as variables. */
export async function newComposeEnv(): Promise<Record<string, string>> {
  const { stdout } = await run(path.join(ROOT, 'docker/new-env.sh'));
  return Object.fromEntries(stdout.trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
}

export interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  restart?: string;
  healthcheck?: { test: string[] };
  [field: string]: unknown;
}

/** `docker-compose [args] config`, parsed, with the given variables (and PATH) as its whole environment. */
export async function composeConfig(args: string[], env: Record<string, string>, cwd = ROOT): Promise<{ services: Record<string, ComposeService> }> {
  const { stdout } = await run(dockerCompose!, [...args, 'config'], { cwd, env: { PATH: process.env.PATH ?? '', ...env } });
  return parse(stdout) as { services: Record<string, ComposeService> };
}
