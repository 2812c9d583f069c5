// The fleet's slot ports are chosen long before their instances bind them, so they must come from below the
// OS's ephemeral range: there, nothing asking for port 0 (another demo's nginx, a test's instance) or opening an
// outgoing connection can be handed one meanwhile.
import fs from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePorts, slotPortRange } from '../../load/run/fleet.ts';

const listenOnZero = () =>
  new Promise<net.Server>((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => resolve(server));
  });

describe('fleet slot ports', () => {
  it('When slot ports are allocated, then they are distinct, free, and below the ephemeral range the OS hands out for port 0', async () => {
    const ephemeralLow = fs.existsSync('/proc/sys/net/ipv4/ip_local_port_range')
      ? Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
      : 49_152;
    const { low, high } = slotPortRange();
    const ports = await freePorts(8);
    const servers = await Promise.all(Array.from({ length: 20 }, listenOnZero));
    const ephemeral = servers.map((s) => (s.address() as net.AddressInfo).port);
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));

    expect(high).toBeLessThan(ephemeralLow);
    expect(new Set(ports).size).toBe(8);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(low);
      expect(port).toBeLessThanOrEqual(high);
    }
    // What port 0 hands out comes from the other range, so it can never be one of the slots.
    for (const port of ephemeral) expect(port).toBeGreaterThanOrEqual(ephemeralLow);
  });
});

describe('fleet slot ports across runs on one machine', () => {
  it('When two runs draw the same candidate ports (a CI run once gave two concurrent demos one slot port: EADDRINUSE), then the second never gets a port the first holds, even before any instance bound it', async () => {
    const { low } = slotPortRange();
    // The same draws for both, as two demos' random picks that happen to meet; ports far apart per test run.
    const base = low + 5000 + (process.pid % 10_000);
    const draws = () => {
      const sequence = [base, base + 1, base + 2, base + 3, base + 4, base + 5, base + 6, base + 7];
      let i = 0;
      return () => sequence[i++ % sequence.length]!;
    };
    const first = await freePorts(3, { pick: draws() });
    const second = await freePorts(3, { pick: draws() });

    expect(first).toEqual([base, base + 1, base + 2]);
    expect(second.filter((port) => first.includes(port))).toEqual([]);
    expect(second).toEqual([base + 3, base + 4, base + 5]);
  });
});
