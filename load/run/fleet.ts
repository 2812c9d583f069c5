// The fleet: a fixed set of upstream slots, one port each, allocated before the balancer starts (below the
// ephemeral port range, so nothing else is handed them meanwhile: slotPortRange). The balancer
// lists every slot the rollout will ever use; an empty slot is passed over (passive failover), so instances
// come and go without a balancer reload (which would reset client keep-alive connections).
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startInstanceProcess } from '../infra/instance-process.ts';
import type { AppVersion, InstanceProcess } from '../infra/instance-process.ts';

export interface Slot {
  name: string;
  version: AppVersion;
  port: number;
  instance?: InstanceProcess;
}

/**
 * Ports below the OS's ephemeral range (Linux: ip_local_port_range, 32768-60999 by default; macOS and Windows
 * start at 49152). A slot's port is chosen now and bound only when its instance starts, possibly minutes later;
 * a port from the ephemeral range could meanwhile be handed to anyone asking for port 0 (another demo's nginx,
 * a test's instance) or to an outgoing connection. Measured: two demos run side by side by the workshop test
 * once got each other's traffic that way (one demo's slot was the other's nginx). Below the range, only a
 * program that names the port explicitly can take it.
 */
export function slotPortRange(): { low: number; high: number } {
  let ephemeralLow = 32768;
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 11_000) ephemeralLow = low;
  } catch {
    // not Linux: 32768 is below every default ephemeral range
  }
  return { low: 10_000, high: Math.min(ephemeralLow, 49_152) - 1 };
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Slot ports claimed by the runs on this machine, one file per port holding its owner's pid. Free now is not
 * enough: a slot is bound only when its instance starts, and meanwhile another run (two demos side by side in
 * make test-full, a workshop room's laptops are separate machines) can find it free too, and both bind it later:
 * a CI run got EADDRINUSE that way. A claim lasts until its process exits; one whose process is gone is stale.
 */
const CLAIMS_DIR = path.join(os.tmpdir(), 'dwdr-slot-ports');
const claimed = new Set<string>();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Claims `port` for this process (true), or finds it claimed by a live process (false). */
function claim(port: number): boolean {
  const file = path.join(CLAIMS_DIR, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      if (claimed.size === 0) process.once('exit', releaseClaims);
      claimed.add(file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner: number;
      try {
        owner = Number(fs.readFileSync(file, 'utf8'));
      } catch {
        continue; // removed meanwhile: try to claim it again
      }
      // No pid yet (another run is writing it): taken. A live owner: taken.
      if (!(Number.isInteger(owner) && owner > 0) || processAlive(owner)) return false;
      // Stale (its run was killed): remove it and try once more; of two runs doing this, one wins the 'wx'.
      fs.rmSync(file, { force: true });
    }
  }
  return false;
}

function releaseClaims(): void {
  for (const file of claimed) {
    try {
      if (fs.readFileSync(file, 'utf8') === String(process.pid)) fs.rmSync(file, { force: true });
    } catch {
      // already gone
    }
  }
  claimed.clear();
}

/**
 * `count` distinct ports, free now and claimed for this process, chosen at random below the ephemeral range (see
 * slotPortRange). `pick` draws a candidate (tests make two runs draw the same ones).
 */
export async function freePorts(count: number, { pick }: { pick?: () => number } = {}): Promise<number[]> {
  const { low, high } = slotPortRange();
  const draw = pick ?? (() => randomInt(low, high + 1));
  fs.mkdirSync(CLAIMS_DIR, { recursive: true });
  const ports = new Set<number>();
  for (let attempt = 0; ports.size < count; attempt++) {
    if (attempt >= 1000) throw new Error(`no ${count} free ports found between ${low} and ${high}`);
    const port = draw();
    if (!ports.has(port) && (await canListen(port)) && claim(port)) ports.add(port);
  }
  return [...ports];
}

export class Fleet {
  /** Slots whose instance the run itself is stopping: their exit is expected. */
  private readonly stopping = new Set<string>();
  /**
   * Called when an instance exits without the run having stopped it (a crash, an OOM kill, a stage guard's exit 3).
   * The demo takes a database snapshot at once: a write torn by the crash is visible now, and may be overwritten by
   * the time the step ends.
   */
  onUnexpectedExit?: (slot: Slot, exit: { code: number | null; signal: NodeJS.Signals | null }) => void;

  constructor(
    readonly slots: Slot[],
    private readonly env: Record<string, string>,
    /** Each instance's output (its pino JSON logs) goes to <logDir>/<slot>.log. */
    private readonly logDir?: string,
  ) {}

  static async allocate(layout: { name: string; version: AppVersion }[], env: Record<string, string>, { logDir }: { logDir?: string } = {}): Promise<Fleet> {
    const ports = await freePorts(layout.length);
    if (logDir) {
      // A fresh run, fresh logs (an instance started twice in one run appends to its file).
      fs.rmSync(logDir, { recursive: true, force: true });
      fs.mkdirSync(logDir, { recursive: true });
    }
    return new Fleet(layout.map((slot, i) => ({ ...slot, port: ports[i]! })), env, logDir);
  }

  slot(name: string): Slot {
    const slot = this.slots.find((s) => s.name === name);
    if (!slot) throw new Error(`no slot ${name}`);
    return slot;
  }

  get upstreams(): string[] {
    return this.slots.map((s) => `127.0.0.1:${s.port}`);
  }

  /** Slots with a running process (it may have crashed since: check `instance.child.exitCode`). */
  running(): Slot[] {
    return this.slots.filter((s) => s.instance && s.instance.child.exitCode === null && s.instance.child.signalCode === null);
  }

  async start(name: string, extraEnv: Record<string, string> = {}): Promise<InstanceProcess> {
    const slot = this.slot(name);
    slot.instance = await startInstanceProcess(
      slot.version,
      { ...this.env, ...extraEnv, PORT: String(slot.port), INSTANCE_ID: slot.name },
      // A minute, as the chaos harness allows: on a 2-core machine shared with other work a tsx start-up alone
      // has taken over 20 s (the default), which failed the demo at step 0.
      { timeoutMs: 60_000, ...(this.logDir ? { logFile: path.join(this.logDir, `${slot.name}.log`) } : {}) },
    );
    const instance = slot.instance;
    this.stopping.delete(name);
    instance.child.once('exit', (code, signal) => {
      if (!this.stopping.has(name) && slot.instance === instance) this.onUnexpectedExit?.(slot, { code, signal });
    });
    return instance;
  }

  /** SIGTERM (drain) or SIGKILL; resolves once the process has exited. */
  async stop(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const slot = this.slot(name);
    const started = performance.now();
    this.stopping.add(name);
    const exit = slot.instance ? await slot.instance.stop(signal) : { code: null, signal: null };
    return { ...exit, ms: Math.round(performance.now() - started) };
  }

  async stopAll(): Promise<void> {
    const running = this.running();
    for (const s of running) this.stopping.add(s.name);
    await Promise.all(running.map((s) => s.instance!.stop('SIGTERM')));
  }
}
