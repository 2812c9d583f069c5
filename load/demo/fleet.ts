// The fleet: a fixed set of upstream slots, one port each, allocated before the balancer starts. The balancer
// lists every slot the rollout will ever use; an empty slot is passed over (passive failover), so instances
// come and go without a balancer reload (which would reset client keep-alive connections).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startInstanceProcess } from '../instances.ts';
import type { AppVersion, InstanceProcess } from '../instances.ts';

export interface Slot {
  name: string;
  version: AppVersion;
  port: number;
  instance?: InstanceProcess;
}

/** Ports the OS says are free now; held briefly and released, then handed to instances started later. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

export class Fleet {
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
      this.logDir ? { logFile: path.join(this.logDir, `${slot.name}.log`) } : {},
    );
    return slot.instance;
  }

  /** SIGTERM (drain) or SIGKILL; resolves once the process has exited. */
  async stop(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const slot = this.slot(name);
    const started = performance.now();
    const exit = slot.instance ? await slot.instance.stop(signal) : { code: null, signal: null };
    return { ...exit, ms: Math.round(performance.now() - started) };
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.running().map((s) => s.instance!.stop('SIGTERM')));
  }
}
