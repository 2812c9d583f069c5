// Port helpers for the processes the rollout starts (the balancer, private database servers): pick a free
// loopback port, and wait until a port accepts connections (a poll with a deadline, never a fixed sleep).
import net from 'node:net';

/** A port that was free a moment ago (the OS picked it for a listener that is closed again). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Resolves once host:port accepts a TCP connection. `failIf` is checked before every attempt: when it
 * returns an Error (say, the process that should listen has exited) the wait stops with that error.
 */
export async function waitForPort(
  host: string,
  port: number,
  { timeoutMs = 10_000, intervalMs = 20, failIf }: { timeoutMs?: number; intervalMs?: number; failIf?: () => Error | undefined } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const failure = failIf?.();
    if (failure) throw failure;
    if (await canConnect(host, port)) return;
    if (Date.now() >= deadline) throw new Error(`nothing accepted connections on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
