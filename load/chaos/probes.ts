// What the fence scenarios (cut-off-v2, frozen-v1) ask an instance directly, beside the load through the
// balancer: whether its public port refuses connections, and what it answers.
import net from 'node:net';

/** True when the port refuses connections (the instance closed it); undefined while it accepts (for waitFor). */
export function connectionRefused(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' ? true : undefined));
  });
}

/** A GET's status and JSON body; undefined when the connection is refused, reset or times out (for waitFor). */
export async function getJson(url: string, timeoutMs = 2000): Promise<{ status: number; body: Record<string, unknown> } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  } catch {
    return undefined;
  }
}
