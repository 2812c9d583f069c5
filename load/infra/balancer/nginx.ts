// The nginx balancer of the local demo: renders nginx.conf.template into a private prefix dir, checks it
// with `nginx -t`, runs nginx in the foreground and stops it with `nginx -s quit`. Nothing is written
// outside that dir (pid, logs and temp files live in it), and no reload is ever needed: the upstream list
// holds a slot for every instance the rollout will run.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { mapping } from '../../../shared/schema-mapping.ts';
import { own, ownChild } from '../cleanup.ts';
import { freePort, waitForPort } from './ports.ts';

export const TEMPLATE_PATH = path.join(import.meta.dirname, 'nginx.conf.template');

export interface NginxTemplateVars {
  listenPort: number;
  /** Default 127.0.0.1: the demo never listens beyond loopback. */
  listenHost?: string;
  /** One per slot, "host:port"; a slot may have nothing listening yet. */
  upstreams: string[];
  /** Absolute dir for the pid file, logs and temp files. */
  runDir: string;
  workerProcesses?: number | 'auto';
  /** A DNS server nginx re-resolves the slots' names with while it runs (nginx 1.27.3+); none by default. */
  resolver?: string;
  /** The public collection the balancer proxies (with its sub-paths and /healthz); default the mapping's route. */
  route?: string;
}

// Strict shapes: every value lands inside nginx syntax, so nothing may carry a space, ';', '{' or a quote.
const UPSTREAM_SHAPE = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+):\d{1,5}$/;
const HOST_SHAPE = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+)$/;
const DIR_SHAPE = /^\/[A-Za-z0-9._/+-]*$/;
const ROUTE_SHAPE = /^\/[a-z0-9][a-z0-9_-]*$/;

/**
 * Renders the template. A line holding {{UPSTREAM}} is repeated once per upstream; a line starting with
 * {{IF_RESOLVER}} is kept only with a resolver; comment lines are left as they are (they document the
 * placeholders).
 */
export function fillTemplate(vars: NginxTemplateVars, template: string = readFileSync(TEMPLATE_PATH, 'utf8')): string {
  const { listenPort, listenHost = '127.0.0.1', upstreams, runDir, workerProcesses = 1, resolver, route = mapping.route } = vars;
  if (upstreams.length === 0) throw new Error('fillTemplate: at least one upstream slot is required');
  for (const upstream of upstreams) {
    if (!UPSTREAM_SHAPE.test(upstream)) throw new Error(`fillTemplate: upstream ${JSON.stringify(upstream)} is not "host:port"`);
  }
  if (!Number.isInteger(listenPort) || listenPort < 1 || listenPort > 65535) throw new Error(`fillTemplate: listenPort ${listenPort} is not a port`);
  if (!HOST_SHAPE.test(listenHost)) throw new Error(`fillTemplate: listenHost ${JSON.stringify(listenHost)} is not a host`);
  if (!DIR_SHAPE.test(runDir)) throw new Error(`fillTemplate: runDir ${JSON.stringify(runDir)} must be an absolute path of [A-Za-z0-9._/+-]`);
  if (workerProcesses !== 'auto' && !(Number.isInteger(workerProcesses) && workerProcesses >= 1)) {
    throw new Error(`fillTemplate: workerProcesses ${workerProcesses} must be a positive integer or 'auto'`);
  }
  if (resolver !== undefined && !HOST_SHAPE.test(resolver)) throw new Error(`fillTemplate: resolver ${JSON.stringify(resolver)} is not a host`);
  if (!ROUTE_SHAPE.test(route)) throw new Error(`fillTemplate: route ${JSON.stringify(route)} must be one path segment of [a-z0-9_-], like /things`);
  const values: Record<string, string> = {
    ROUTE: route,
    RESOLVER: resolver ?? '',
    RESOLVE: resolver === undefined ? '' : ' resolve',
    LISTEN_PORT: String(listenPort),
    LISTEN_HOST: listenHost,
    RUN_DIR: runDir,
    WORKER_PROCESSES: String(workerProcesses),
  };
  const lines: string[] = [];
  for (let line of template.split('\n')) {
    if (line.trimStart().startsWith('#')) {
      lines.push(line);
      continue;
    }
    if (line.trimStart().startsWith('{{IF_RESOLVER}}')) {
      if (resolver === undefined) continue;
      line = line.replace('{{IF_RESOLVER}}', '');
    }
    const copies = line.includes('{{UPSTREAM}}') ? upstreams.map((upstream) => line.replaceAll('{{UPSTREAM}}', upstream)) : [line];
    for (const copy of copies) {
      lines.push(
        copy.replace(/\{\{([A-Z_]+)\}\}/g, (placeholder, name: string) => {
          const value = values[name];
          if (value === undefined) throw new Error(`fillTemplate: the template uses ${placeholder}, which has no value`);
          return value;
        }),
      );
    }
  }
  return lines.join('\n');
}

/** nginx on PATH, else /usr/sbin/nginx (Debian installs it there, outside a normal user's PATH), else null. */
export function findNginx(): string | null {
  const candidates = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'nginx')), '/usr/sbin/nginx'];
  for (const candidate of candidates) {
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here: try the next one
    }
  }
  return null;
}

export interface StartNginxOptions {
  /** 0 (the default) picks a free port. */
  listenPort?: number;
  listenHost?: string;
  upstreams: string[];
  /** The prefix dir; a temp dir (removed by stop()) when omitted. */
  dir?: string;
  workerProcesses?: number | 'auto';
  /** Default: findNginx(). */
  nginxPath?: string;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
}

export interface NginxBalancer {
  kind: 'nginx';
  url: string;
  port: number;
  confPath: string;
  dir: string;
  pid: number;
  /** `nginx -s quit` (finish in-flight requests), SIGKILL to nginx's process group after stopTimeoutMs. */
  stop(): Promise<void>;
}

function run(file: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(file, args, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}`.trim() });
    });
  });
}

async function tail(file: string, lines = 20): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

const MAX_PORT_ATTEMPTS = 3;

export async function startNginx(options: StartNginxOptions): Promise<NginxBalancer> {
  const nginxPath = options.nginxPath ?? findNginx();
  if (!nginxPath) throw new Error('nginx not found on PATH or at /usr/sbin/nginx (Debian: apt-get install nginx-light)');
  const { listenHost = '127.0.0.1', upstreams, workerProcesses, startTimeoutMs = 10_000, stopTimeoutMs = 5_000 } = options;
  const ownsDir = options.dir === undefined;
  const dir = path.resolve(options.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'balancer-nginx-'))));
  const releaseDir = ownsDir ? own({ kind: 'folder', name: dir, stop: () => rm(dir, { recursive: true, force: true }), reap: { folder: dir } }) : () => {};
  try {
    await mkdir(path.join(dir, 'logs'), { recursive: true });
    await mkdir(path.join(dir, 'tmp'), { recursive: true });
    const confPath = path.join(dir, 'nginx.conf');
    const errorLog = path.join(dir, 'logs', 'error.log');
    // -e: the error log before the config is read (the compiled-in default points outside the prefix).
    const baseArgs = ['-p', `${dir}/`, '-c', confPath, '-e', errorLog];
    // A port picked as free can be taken before nginx binds it: pick again (only when we picked it).
    for (let attempt = 1; ; attempt++) {
      const port = options.listenPort || (await freePort(listenHost));
      await writeFile(confPath, fillTemplate({ listenPort: port, listenHost, upstreams, runDir: dir, workerProcesses }));
      const check = await run(nginxPath, ['-t', ...baseArgs]);
      if (check.code !== 0) throw new Error(`nginx -t rejected ${confPath}:\n${check.output}`);
      try {
        const child = await launch(nginxPath, baseArgs, { dir, host: listenHost, port, timeoutMs: startTimeoutMs });
        return handle(child, { nginxPath, baseArgs, listenHost, port, confPath, dir, ownsDir, releaseDir, stopTimeoutMs });
      } catch (err) {
        const portTaken = /Address already in use/.test((err as Error).message);
        if (!portTaken || options.listenPort || attempt >= MAX_PORT_ATTEMPTS) throw err;
      }
    }
  } catch (err) {
    if (ownsDir) await rm(dir, { recursive: true, force: true });
    releaseDir();
    throw err;
  }
}

async function launch(nginxPath: string, baseArgs: string[], { dir, host, port, timeoutMs }: { dir: string; host: string; port: number; timeoutMs: number }): Promise<ChildProcess> {
  // detached: nginx gets its own process group, so a SIGKILL reaches the workers too, not only the master.
  const child = spawn(nginxPath, [...baseArgs, '-g', 'daemon off;'], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  // Owned by the run from its first instant: an interrupt sends SIGQUIT (graceful quit) to the whole group.
  ownChild('nginx', 'nginx', child, {
    group: true,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGQUIT');
        } catch {
          // already gone
        }
        await new Promise((resolve) => child.once('exit', resolve));
      }
    },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  let exitError: Error | undefined;
  const spawnFailed = new Promise<void>((resolve) => child.once('error', (err) => ((exitError = err), resolve())));
  child.once('exit', (code, signal) => (exitError ??= new Error(`nginx exited (code ${code}, signal ${signal}) before accepting connections`)));
  // Ready when the port accepts AND the pid file holds our master's pid: nginx writes it only after binding,
  // so a foreign listener that grabbed the port first is not mistaken for this nginx.
  const pidFile = path.join(dir, 'nginx.pid');
  const ready = async () => {
    await waitForPort(connectHost(host).replace(/^\[(.*)\]$/, '$1'), port, { timeoutMs, failIf: () => exitError });
    const deadline = Date.now() + timeoutMs;
    while ((await readFile(pidFile, 'utf8').catch(() => '')).trim() !== String(child.pid)) {
      if (exitError) throw exitError;
      if (Date.now() >= deadline) throw new Error(`nginx did not write its pid to ${pidFile} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  try {
    await Promise.race([ready(), spawnFailed.then(() => Promise.reject(exitError))]);
    return child;
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(-child.pid, 'SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    throw new Error(`${(err as Error).message}\n${stderr.trim()}\n${await tail(path.join(dir, 'logs', 'error.log'))}`.trim());
  }
}

function connectHost(listenHost: string): string {
  return listenHost === '0.0.0.0' ? '127.0.0.1' : listenHost;
}

function handle(
  child: ChildProcess,
  ctx: { nginxPath: string; baseArgs: string[]; listenHost: string; port: number; confPath: string; dir: string; ownsDir: boolean; releaseDir: () => void; stopTimeoutMs: number },
): NginxBalancer {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  let stopping: Promise<void> | undefined;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const quit = await run(ctx.nginxPath, [...ctx.baseArgs, '-s', 'quit']);
      // The pid file can be missing if nginx is half-broken: signal the master we started instead.
      if (quit.code !== 0) child.kill('SIGQUIT');
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // the group is already gone
        }
      }, ctx.stopTimeoutMs);
      await exited;
      clearTimeout(timer);
    }
    if (ctx.ownsDir) await rm(ctx.dir, { recursive: true, force: true });
    ctx.releaseDir();
  };
  return {
    kind: 'nginx',
    url: `http://${connectHost(ctx.listenHost)}:${ctx.port}`,
    port: ctx.port,
    confPath: ctx.confPath,
    dir: ctx.dir,
    pid: child.pid!,
    stop: () => (stopping ??= stop()),
  };
}
