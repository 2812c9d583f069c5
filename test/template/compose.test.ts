// The template's container files cannot run here (no Docker engine), so they are checked for what can be
// checked: docker-compose.yml validates (Debian's docker-compose; REQUIRE_COMPOSE=1 makes its absence a
// failure), the balancer config it renders passes `nginx -t` (the compose hostnames mapped to loopback
// addresses: nginx -t resolves upstream names), and the compiled build the Dockerfile ships starts an app.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillTemplate, findNginx } from '../../load/balancer/nginx.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const composeText = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const packageJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

function which(command: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, command);
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return null;
}
const dockerCompose = which('docker-compose');
if (!dockerCompose && process.env.REQUIRE_COMPOSE === '1') throw new Error('docker-compose not found on PATH (REQUIRE_COMPOSE=1; Debian: apt-get install docker-compose)');
const nginx = findNginx();
if (!nginx && process.env.REQUIRE_NGINX === '1') throw new Error('nginx not found (REQUIRE_NGINX=1)');

/** The nginx-config service's command (a JSON-style flow list on one line in docker-compose.yml). */
function rendererArgs(): string[] {
  const block = composeText.split(/\n  nginx-config:\n/)[1];
  const line = block?.split('\n').find((l) => l.trimStart().startsWith('command:'));
  if (!line) throw new Error('docker-compose.yml: no command line in the nginx-config service');
  const command = JSON.parse(line.replace(/^\s*command:\s*/, '')) as string[];
  expect(command.slice(0, 2)).toEqual(['node', 'dist/load/balancer/render.js']);
  return command.slice(2);
}
function option(args: string[], name: string): string[] {
  return args.flatMap((arg, i) => (arg === `--${name}` ? [args[i + 1]!] : []));
}

describe.skipIf(!dockerCompose)('docker-compose.yml', () => {
  it('When docker-compose validates it with every profile on, then it is accepted with the services, waits and volume the template promises', async () => {
    const profiles = ['--profile', 'load', '--profile', 'tools'];
    await run(dockerCompose!, [...profiles, 'config', '-q'], { cwd: ROOT });
    // MIGRATE_TO set: compose must pass it through to the migration (the way to stop at step 0).
    const { stdout } = await run(dockerCompose!, [...profiles, 'config'], { cwd: ROOT, env: { ...process.env, MIGRATE_TO: '001-base' } });

    const services = stdout.split(/^services:\n/m)[1]!.split(/\n\S/)[0]!.match(/^  [\w-]+(?=:$)/gm)!.map((s) => s.trim());
    expect(services).toEqual(expect.arrayContaining(['app-v1-a', 'app-v1-b', 'app-v2-a', 'app-v2-b', 'cli', 'load', 'migrate', 'mysql', 'nginx', 'nginx-config']));
    expect(stdout).toMatch(/image: mysql:8\.4/);
    expect(stdout).toMatch(/mysql-data:\/var\/lib\/mysql/);
    expect(stdout.match(/condition: service_completed_successfully/g)?.length).toBeGreaterThanOrEqual(5);
    expect(stdout.match(/condition: service_healthy/g)?.length).toBeGreaterThanOrEqual(5);
    expect(stdout).toMatch(/- 001-base/);
    expect(composeText).toContain('${MIGRATE_TO:-005-rollout-log}');
  });

  it('When a compose file is broken, then docker-compose config -q fails (the check above can fail)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-compose-'));
    fs.writeFileSync(path.join(dir, 'docker-compose.yml'), composeText.replace('condition: service_completed_successfully', 'condition: service_finished'));
    try {
      await expect(run(dockerCompose!, ['config', '-q'], { cwd: dir })).rejects.toThrow();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the balancer config compose renders', () => {
  it('When the nginx-config command is read, then every upstream slot is an app service that nginx waits for, on the port the apps listen on', () => {
    const upstreams = option(rendererArgs(), 'upstream');

    expect(upstreams).toEqual(['app-v1-a:3000', 'app-v1-b:3000', 'app-v2-a:3000', 'app-v2-b:3000']);
    for (const upstream of upstreams) {
      const service = upstream.split(':')[0]!;
      expect(composeText).toMatch(new RegExp(`\\n  ${service}:\\n    <<: \\*app\\n`));
      expect(composeText.split(/\n  nginx:\n/)[1]!.split(/\n  \w[\w-]*:\n/)[0]).toContain(`${service}:\n        condition: service_healthy`);
    }
    expect(composeText).toMatch(/PORT: "3000"/);
  });

  it.skipIf(!nginx)('When the compose hostnames are mapped to loopback addresses, then the twin differs only in those addresses and nginx -t accepts it', async () => {
    const args = rendererArgs();
    const upstreams = option(args, 'upstream');
    const [listenHost] = option(args, 'listen-host');
    const listenPort = Number(option(args, 'listen-port')[0]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-compose-nginx-'));
    try {
      // Each service name -> its own loopback address (127.0.0.2, .3, ...): resolvable without DNS.
      const twinOf = new Map(upstreams.map((u, i) => [u, u.replace(/^[^:]+/, `127.0.0.${i + 2}`)]));
      const composeConf = fillTemplate({ upstreams, listenHost: listenHost!, listenPort, runDir: option(args, 'run-dir')[0]! });
      const twinConf = fillTemplate({ upstreams: upstreams.map((u) => twinOf.get(u)!), listenHost: listenHost!, listenPort, runDir: dir });
      let mapped = composeConf.replaceAll(option(args, 'run-dir')[0]!, dir);
      for (const [name, twin] of twinOf) mapped = mapped.replaceAll(` ${name} `, ` ${twin} `);
      expect(twinConf).toBe(mapped);
      expect(composeConf).toContain(`listen ${listenHost}:${listenPort};`);
      expect(composeConf).toMatch(/location = \/users \{/);
      expect(composeConf).not.toMatch(/location [^@\n]*(admin|metrics)/);

      fs.mkdirSync(path.join(dir, 'logs'));
      fs.mkdirSync(path.join(dir, 'tmp'));
      fs.writeFileSync(path.join(dir, 'nginx.conf'), twinConf);
      const check = await run(nginx!, ['-t', '-p', `${dir}/`, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'logs', 'error.log')]).catch((err: { stderr: string }) => ({ stderr: err.stderr, failed: true }));
      expect(check.stderr).toContain('test is successful');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Dockerfile', () => {
  it('When read, then it is multi-stage on Node 22 or 24 slim, installs production dependencies only, runs as a non-root user, with a HEALTHCHECK', () => {
    const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)];
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^ARG NODE_VERSION=(22|24)$/m);
    expect(stages.at(-1)![1]).toMatch(/^node:\$\{NODE_VERSION\}-\w+-slim$/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(packageJson.scripts.build).toMatch(/^tsc -p tsconfig\.build\.json && cp load\/balancer\/nginx\.conf\.template dist\/load\/balancer\/$/);
  });
});

// tsc -p tsconfig.build.json into a temp dir, as the Dockerfile's build stage does; then the compiled JS runs.
describe('the compiled build the image ships', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-build-'));
  let built: Promise<unknown>;
  beforeAll(() => {
    // A type error fails `make test`'s typecheck (and the image build); here only what tsc emits matters.
    built = run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', out], { cwd: ROOT }).catch((err: { stdout: string }) => {
      if (!fs.existsSync(path.join(out, 'app-v2/server.js'))) throw new Error(`tsc emitted nothing:\n${err.stdout}`);
    }).then(() => {
      fs.copyFileSync(path.join(ROOT, 'load/balancer/nginx.conf.template'), path.join(out, 'load/balancer/nginx.conf.template'));
      fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(out, 'package.json'));
      fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(out, 'node_modules'));
    });
    return built;
  }, 120_000);
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it('When built, then every dist/ path docker-compose.yml and the Dockerfile name exists', () => {
    const named = new Set([...`${composeText}\n${dockerfile}`.matchAll(/dist\/[\w/.-]+\.js/g)].map((m) => m[0]));
    for (const tool of ['db-migrate', 'flags', 'status', 'backfill', 'verify', 'rollout', 'db-contract']) named.add(`dist/cli/${tool}.js`);

    expect(named.size).toBeGreaterThanOrEqual(10);
    // .dockerignore leaves test/ out of the image's build context: nothing built may need it.
    expect(fs.existsSync(path.join(out, 'test'))).toBe(false);
    for (const file of named) expect(fs.existsSync(path.join(out, file.replace(/^dist\//, ''))), file).toBe(true);
  });

  it('When the compiled migration and app v2 run against SQLite, then the app answers /healthz as v2', async () => {
    const databaseUrl = `sqlite:${path.join(out, 'test.sqlite')}`;
    const env = { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl, PORT: '0', LOG_LEVEL: 'warn' };
    const migrated = await run(process.execPath, [path.join(out, 'cli/db-migrate.js'), 'up', '--to', '005-rollout-log'], { env });
    expect(migrated.stdout).toContain('002-expand');

    const child = spawn(process.execPath, [path.join(out, 'app-v2/server.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "listening" line within 20 s:\n${output}`)), 20_000);
        const onData = (chunk: Buffer) => {
          output += chunk;
          const match = /listening on (http:\/\/\S+)/.exec(output);
          if (match) (clearTimeout(timer), resolve(match[1]!));
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('exit', (code) => reject(new Error(`exited ${code}:\n${output}`)));
      });
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(((await health.json()) as { version: string }).version).toBe('v2');
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
    }
  }, 40_000);

  it('When the compiled renderer runs with the compose arguments (hosts mapped to loopback), then it writes a config with one slot per app', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-render-'));
    try {
      const args = rendererArgs().map((arg) => arg.replace(/^app-v(\d)-(a|b):/, (_m, v: string, ab: string) => `127.0.${v}.${ab === 'a' ? 1 : 2}:`).replace(/^\/run\/balancer/, dir));
      const { stdout } = await run(process.execPath, [path.join(out, 'load/balancer/render.js'), ...args]);

      expect(stdout).toContain('4 upstream slots');
      const conf = fs.readFileSync(path.join(dir, 'nginx.conf'), 'utf8');
      expect(conf.match(/^\s*server 127\.0\.[12]\.[12]:3000 /gm)?.length).toBe(4);
      expect(fs.existsSync(path.join(dir, 'logs'))).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
