// The template's container files cannot run here (no Docker engine), so they are checked for what can be
// checked: docker-compose.yml validates (Debian's docker-compose; REQUIRE_COMPOSE=1 makes its absence a
// failure) with the .env docker/new-env.sh writes and refuses to start without one, the balancer config it
// renders passes `nginx -t` (the compose hostnames mapped to loopback addresses: nginx -t resolves upstream
// names; the `resolve` lines only where nginx is 1.27.3+), and the compiled build the Dockerfile ships starts an app.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fillTemplate, findNginx } from '../../load/infra/balancer/nginx.ts';
import { mysqlReplication } from '../../shared/db/replica/mysql.ts';
import { externalPairFromEnv } from '../replica/external-pair.ts';
import { composeConfig, dockerCompose, newComposeEnv } from './support/compose.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const composeText = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const packageJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

const nginx = findNginx();
if (!nginx && process.env.REQUIRE_NGINX === '1') throw new Error('nginx not found (REQUIRE_NGINX=1)');

/** The nginx-config service's command (a JSON-style flow list on one line in docker-compose.yml). */
function rendererArgs(): string[] {
  const block = composeText.split(/\n  nginx-config:\n/)[1];
  const line = block?.split('\n').find((l) => l.trimStart().startsWith('command:'));
  if (!line) throw new Error('docker-compose.yml: no command line in the nginx-config service');
  const command = JSON.parse(line.replace(/^\s*command:\s*/, '')) as string[];
  expect(command.slice(0, 2)).toEqual(['node', 'dist/load/infra/balancer/render.js']);
  return command.slice(2);
}
function option(args: string[], name: string): string[] {
  return args.flatMap((arg, i) => (arg === `--${name}` ? [args[i + 1]!] : []));
}

describe.skipIf(!dockerCompose)('docker-compose.yml', () => {
  it('When docker-compose validates it with every profile on, then it is accepted with the services, waits and volume the template promises', async () => {
    const profiles = ['--profile', 'load', '--profile', 'tools'];
    const env = { ...process.env, ...(await newComposeEnv()) };
    await run(dockerCompose!, [...profiles, 'config', '-q'], { cwd: ROOT, env });
    // MIGRATE_TO set: compose must pass it through to the migration (the way to stop at step 0).
    const { stdout } = await run(dockerCompose!, [...profiles, 'config'], { cwd: ROOT, env: { ...env, MIGRATE_TO: '001-base' } });

    const services = stdout.split(/^services:\n/m)[1]!.split(/\n\S/)[0]!.match(/^  [\w-]+(?=:$)/gm)!.map((s) => s.trim());
    expect(services).toEqual(expect.arrayContaining(['app-v1-a', 'app-v1-b', 'app-v2-a', 'app-v2-b', 'cli', 'load', 'migrate', 'mysql', 'nginx', 'nginx-config']));
    expect(stdout).toMatch(/image: mysql:8\.4/);
    expect(stdout).toMatch(/mysql-data:\/var\/lib\/mysql/);
    expect(stdout.match(/condition: service_completed_successfully/g)?.length).toBeGreaterThanOrEqual(5);
    expect(stdout.match(/condition: service_healthy/g)?.length).toBeGreaterThanOrEqual(5);
    expect(stdout).toMatch(/- 001-base/);
    expect(composeText).toContain('${MIGRATE_TO:-006-instance-strategy}');
  });

  it('When a compose file is broken, then docker-compose config -q fails (the check above can fail)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-compose-'));
    fs.writeFileSync(path.join(dir, 'docker-compose.yml'), composeText.replace('condition: service_completed_successfully', 'condition: service_finished'));
    try {
      await expect(run(dockerCompose!, ['config', '-q'], { cwd: dir, env: { ...process.env, ...(await newComposeEnv()) } })).rejects.toThrow(/service_finished/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('When no .env gives the passwords, then docker-compose refuses the file and names the variable and the script that writes it', async () => {
    const env = await newComposeEnv();
    delete env.APP_V1_PASSWORD;

    await expect(composeConfig([], env)).rejects.toThrow(/APP_V1_PASSWORD.*run docker\/new-env\.sh > \.env/);
  });

  it('When docker/new-env.sh writes .env, then it sets exactly the variables the compose files require, each a distinct random password', async () => {
    const required = new Set([...composeText.matchAll(/\$\{(\w+):\?/g), ...fs.readFileSync(path.join(ROOT, 'docker/replica/compose.apps.yml'), 'utf8').matchAll(/\$\{(\w+):\?/g)].map((m) => m[1]!));
    const [first, second] = [await newComposeEnv(), await newComposeEnv()];

    expect(Object.keys(first).sort()).toEqual([...required].sort());
    for (const [name, value] of Object.entries(first)) {
      expect(value, name).toMatch(/^[0-9a-f]{36}$/);
      expect(second[name], name).not.toBe(value);
    }
    expect(new Set(Object.values(first)).size).toBe(Object.keys(first).length);
    expect(composeText).not.toMatch(/PASSWORD:-/);
  });

  it('When each service connects, then it uses its own least-privilege account, and v1\'s column rights are granted between the migration and the apps', async () => {
    const { services } = await composeConfig(['--profile', 'load', '--profile', 'tools'], await newComposeEnv());
    const user = (name: string, variable = 'DATABASE_URL') => new URL(services[name]!.environment![variable]!).username;

    expect(user('migrate')).toBe('migrator');
    for (const name of ['app-v1-a', 'app-v1-b']) expect(user(name), name).toBe('app_v1');
    for (const name of ['app-v2-a', 'app-v2-b']) expect(user(name), name).toBe('app_v2');
    expect(user('cli')).toBe('cli');
    expect(user('cli', 'MIGRATOR_DATABASE_URL')).toBe('migrator');
    expect(services.mysql!.environment).not.toHaveProperty('MYSQL_USER');
    expect(services['db-grants']!.depends_on).toEqual({ migrate: { condition: 'service_completed_successfully' } });
    for (const name of ['app-v1-a', 'app-v2-b']) expect(services[name]!.depends_on).toEqual({ 'db-grants': { condition: 'service_completed_successfully' } });
  });

  it('When compose checks the health of an app, then it asks /healthz on the ops port the app is configured to open (the public port is closed until the instance registers)', async () => {
    const { services } = await composeConfig([], await newComposeEnv());

    for (const name of ['app-v1-a', 'app-v1-b', 'app-v2-a', 'app-v2-b']) {
      const service = services[name]!;
      const opsPort = (service.environment as Record<string, string>).OPS_PORT;
      expect(opsPort, name).toMatch(/^[1-9]\d*$/);
      expect((service.healthcheck as { test: string[] }).test.join(' '), name).toContain(`http://127.0.0.1:${opsPort}/healthz`);
    }
  });

  it('When the apps exit, then compose restarts them on failure at most 3 times (a refused stage, exit 3, does not loop), and the one-shot jobs never', async () => {
    const { services } = await composeConfig(['--profile', 'load', '--profile', 'tools'], await newComposeEnv());

    for (const name of ['app-v1-a', 'app-v1-b', 'app-v2-a', 'app-v2-b']) expect(services[name]!.restart, name).toBe('on-failure:3');
    for (const name of ['migrate', 'db-grants', 'nginx-config', 'load', 'cli']) expect(services[name]!.restart ?? 'no', name).toBe('no');
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
    const [resolver] = option(args, 'resolver');
    const listenPort = Number(option(args, 'listen-port')[0]);
    // Debian's nginx (1.22) does not know `resolve` on an upstream server (1.27.3+): there the twin leaves the
    // resolver lines out, and the comparison below shows they are the only other difference.
    const resolveKnown = await nginxAtLeast(nginx!, [1, 27, 3]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-compose-nginx-'));
    try {
      // Each service name -> its own loopback address (127.0.0.2, .3, ...): resolvable without DNS.
      const twinOf = new Map(upstreams.map((u, i) => [u, u.replace(/^[^:]+/, `127.0.0.${i + 2}`)]));
      const composeConf = fillTemplate({ upstreams, listenHost: listenHost!, listenPort, runDir: option(args, 'run-dir')[0]!, resolver: resolver! });
      const twinConf = fillTemplate({ upstreams: upstreams.map((u) => twinOf.get(u)!), listenHost: listenHost!, listenPort, runDir: dir, ...(resolveKnown ? { resolver: resolver! } : {}) });
      let mapped = composeConf.replaceAll(option(args, 'run-dir')[0]!, dir);
      for (const [name, twin] of twinOf) mapped = mapped.replaceAll(` ${name} `, ` ${twin} `);
      if (!resolveKnown) mapped = withoutResolver(mapped);
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

  it('When rendered for compose, then nginx re-resolves every slot with Docker\'s DNS (resolver, a zone, resolve on each server), and the local rendering has none of it', () => {
    const args = rendererArgs();
    const vars = { upstreams: option(args, 'upstream'), listenPort: 8080, runDir: '/run/balancer' };
    const compose = fillTemplate({ ...vars, resolver: option(args, 'resolver')[0]! });
    const local = fillTemplate(vars);

    expect(option(args, 'resolver')).toEqual(['127.0.0.11']);
    expect(compose).toMatch(/^\s*resolver 127\.0\.0\.11 valid=5s ipv6=off;$/m);
    expect(compose).toMatch(/upstream app \{\n\s*zone app 64k;/);
    expect(compose.match(/^\s*server app-v\d-[ab]:3000 max_fails=1 fail_timeout=2s resolve;$/gm)).toHaveLength(4);
    expect(withoutResolver(compose)).toBe(local);
    expect(local).not.toMatch(/^\s*(resolver|zone) |resolve;/m);
    expect(() => fillTemplate({ ...vars, resolver: '127.0.0.11 ipv6=on' })).toThrow(/resolver/);
  });
});

/** The config without what --resolver adds: the plain rendering, if the three additions are all it changed. */
function withoutResolver(conf: string): string {
  return conf.replace(/^\s*resolver .*\n/m, '').replace(/^\s*zone app 64k;\n/m, '').replaceAll(' resolve;', ';');
}

async function nginxAtLeast(nginxPath: string, wanted: number[]): Promise<boolean> {
  const { stderr } = await run(nginxPath, ['-v']);
  const version = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(stderr)!.slice(1).map(Number);
  for (let i = 0; i < wanted.length; i++) if (version[i] !== wanted[i]) return version[i]! > wanted[i]!;
  return true;
}

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
    expect(packageJson.scripts.build).toMatch(/^tsc -p tsconfig\.build\.json && cp load\/infra\/balancer\/nginx\.conf\.template dist\/load\/infra\/balancer\/$/);
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
      fs.copyFileSync(path.join(ROOT, 'load/infra/balancer/nginx.conf.template'), path.join(out, 'load/infra/balancer/nginx.conf.template'));
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
    const migrated = await run(process.execPath, [path.join(out, 'cli/db-migrate.js'), 'up', '--to', '006-instance-strategy'], { env });
    expect(migrated.stdout).toContain('002-expand');

    const child = spawn(process.execPath, [path.join(out, 'app-v2/server.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "listening" line within 20 s:\n${output}`)), 20_000);
        const onData = (chunk: Buffer) => {
          output += chunk;
          const match = /listening on (http:\/\/\S+)/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
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
      const { stdout } = await run(process.execPath, [path.join(out, 'load/infra/balancer/render.js'), ...args]);

      expect(stdout).toContain('4 upstream slots');
      const conf = fs.readFileSync(path.join(dir, 'nginx.conf'), 'utf8');
      expect(conf.match(/^\s*server 127\.0\.[12]\.[12]:3000 /gm)?.length).toBe(4);
      expect(fs.existsSync(path.join(dir, 'logs'))).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the template GitHub workflow and its compose scripts', () => {
  const workflow = parse(fs.readFileSync(path.join(ROOT, '.github/workflows/ci.yml'), 'utf8')) as {
    jobs: Record<string, { container?: string; 'runs-on': string; env?: Record<string, string>; strategy?: { matrix: { node: string[] } }; steps: { run?: string; if?: string; uses?: string; with?: Record<string, string> }[] }>;
  };
  const runs = (job: string) => workflow.jobs[job]!.steps.map((step) => step.run ?? '').join('\n');

  it('When read, then it builds the image, waits for the stack, walks the rollout and checks read-your-writes on the replica pair, with Compose v2 and the image\'s Node', () => {
    const imageNode = /^ARG NODE_VERSION=(\d+)$/m.exec(dockerfile)![1]!;

    expect(workflow.jobs.test!.strategy!.matrix.node).toEqual(expect.arrayContaining(['20', imageNode]));
    expect(workflow.jobs['mysql-8']!.container).toBe(`node:${imageNode}-bookworm`);
    expect(runs('compose')).toMatch(/docker compose build\n[^]*docker compose up -d --wait\n[^]*docker\/ci\/walk-rollout\.sh/);
    expect(runs('compose-replica')).toMatch(/docker compose up -d --wait\n[^]*docker\/ci\/read-your-writes\.sh/);
    for (const job of ['compose', 'compose-replica']) {
      expect(runs(job)).toContain('docker/new-env.sh > .env');
      expect(runs(job)).not.toMatch(/docker-compose /);
    }
    expect(runs('test')).toMatch(/apt-get install[^]* prometheus/);
  });

  it('When the compose scripts are read, then they parse as bash and every cli tool they call is one the image ships', async () => {
    for (const script of ['docker/ci/walk-rollout.sh', 'docker/ci/read-your-writes.sh', 'docker/ci/replica-pair.sh']) {
      await run('bash', ['-n', path.join(ROOT, script)]);
      const text = fs.readFileSync(path.join(ROOT, script), 'utf8');
      for (const [, tool] of text.matchAll(/(?:^|\s)cli ([a-z-]+)/gm)) expect(fs.existsSync(path.join(ROOT, 'cli', `${tool}.ts`)), `${script}: cli ${tool}`).toBe(true);
    }
  });

  it('When read, then replica-mysql-8 runs test/replica\'s read-your-writes on the two-container MySQL 8.4 pair, pointed at it by the variables the harness reads, on the image\'s Node, and removes the pair after', () => {
    const job = workflow.jobs['replica-mysql-8']!;
    const imageNode = /^ARG NODE_VERSION=(\d+)$/m.exec(dockerfile)![1]!;
    const script = fs.readFileSync(path.join(ROOT, 'docker/ci/replica-pair.sh'), 'utf8');
    const ports = ['PRIMARY_PORT', 'REPLICA_PORT'].map((name) => new RegExp(`^${name}="\\$\\{${name}:-(\\d+)\\}"$`, 'm').exec(script)![1]);

    expect(runs('replica-mysql-8')).toMatch(/docker\/ci\/replica-pair\.sh up\n[^]*npx vitest run[^]*test\/replica\/read-your-writes\.test\.ts/);
    expect(job.steps.find((step) => step.run === 'docker/ci/replica-pair.sh down')?.if).toBe('always()');
    expect(externalPairFromEnv(job.env)).toEqual({ primary: `mysql://root@127.0.0.1:${ports[0]}/`, replica: `mysql://root@127.0.0.1:${ports[1]}/` });
    expect(job.steps.find((step) => step.uses?.startsWith('actions/setup-node'))?.with?.['node-version']).toBe(imageNode);
  });

  it('When the pair script follows the primary, then it uses the statements of shared/db/replica/mysql.ts, after telling the replica it has what the primary did so far', async () => {
    const script = fs.readFileSync(path.join(ROOT, 'docker/ci/replica-pair.sh'), 'utf8');
    const [change, start] = mysqlReplication.followSql({ host: '$PRIMARY', port: 3306, user: 'root', password: '' }) as [string, string];
    expect(script).toContain(`${change}; ${start}`);
    expect(script).not.toMatch(/CHANGE MASTER|START SLAVE/);

    // Run it with a stand-in docker that records every call and answers as two fresh servers would.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-replica-pair-'));
    try {
      fs.writeFileSync(
        path.join(dir, 'docker'),
        [
          '#!/bin/bash',
          'printf "%s\\n" "$*" >> "$CALLS"',
          'case "$*" in',
          '  *"SELECT @@GLOBAL.gtid_executed"*) echo "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5" ;;',
          '  *"SHOW REPLICA STATUS"*) printf "Replica_IO_Running: Yes\\nReplica_SQL_Running: Yes\\n" ;;',
          'esac',
        ].join('\n'),
        { mode: 0o755 },
      );
      const calls = path.join(dir, 'calls');
      const { stdout } = await run('bash', [path.join(ROOT, 'docker/ci/replica-pair.sh'), 'up'], { env: { PATH: `${dir}:${process.env.PATH}`, CALLS: calls } });
      const sql = fs.readFileSync(calls, 'utf8').split('\n').filter((line) => line.startsWith('exec dwdr-mysql-replica mysql --')).map((line) => line.replace(/^.* -e /, ''));

      expect(stdout).toMatch(/follows dwdr-mysql-primary \(127\.0\.0\.1:3307\) by GTID/);
      expect(sql.slice(0, 2)).toEqual([
        "RESET BINARY LOGS AND GTIDS; SET GLOBAL gtid_purged = '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5'",
        `${change.replace('$PRIMARY', 'dwdr-mysql-primary')}; ${start}`,
      ]);
      expect(fs.readFileSync(calls, 'utf8')).toMatch(/run -d --name dwdr-mysql-primary [^\n]*-p 127\.0\.0\.1:3307:3306 [^\n]*mysql:8\.4 --server-id=1 [^\n]*--gtid-mode=ON/);
      expect(fs.readFileSync(calls, 'utf8')).toMatch(/run -d --name dwdr-mysql-replica [^\n]*-p 127\.0\.0\.1:3308:3306 [^\n]*mysql:8\.4 --server-id=2 /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
