// One raw TCP connection speaking HTTP/1.1 by hand, for tests that must control exactly which connection a
// request travels on and observe when the server closes it (keep-alive and drain). Agents hide both.
import net from 'node:net';
import { waitFor } from './instances.ts';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export class RawConnection {
  private buffer = Buffer.alloc(0);
  /** Set when the server ended or closed the connection. */
  closedAt: number | null = null;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => (this.buffer = Buffer.concat([this.buffer, chunk])));
    const closed = () => (this.closedAt ??= Date.now());
    socket.on('end', closed);
    socket.on('close', closed);
    socket.on('error', closed);
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  write(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** Reads the next complete response (Content-Length bodies only, which is all the apps send). */
  async response({ timeoutMs = 5000 } = {}): Promise<RawResponse> {
    return waitFor(
      () => {
        const end = this.buffer.indexOf('\r\n\r\n');
        if (end < 0) return undefined;
        const [statusLine, ...headerLines] = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
        const headers = Object.fromEntries(
          headerLines.map((line) => {
            const colon = line.indexOf(':');
            return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
          }),
        );
        const length = Number(headers['content-length'] ?? 0);
        if (this.buffer.length < end + 4 + length) return undefined;
        const body = this.buffer.subarray(end + 4, end + 4 + length).toString('utf8');
        this.buffer = this.buffer.subarray(end + 4 + length);
        return { status: Number(statusLine!.split(' ')[1]), headers, body };
      },
      { timeoutMs, intervalMs: 10, what: 'an HTTP response' },
    );
  }

  /** Resolves once the server closed the connection: with the bytes it sent first (empty: closed unanswered). */
  async closed({ timeoutMs = 5000 } = {}): Promise<string> {
    await waitFor(() => (this.closedAt === null ? undefined : true), { timeoutMs, intervalMs: 10, what: 'the server to close the connection' });
    return this.buffer.toString('latin1');
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Resolves with the connection error code (e.g. ECONNREFUSED), or null when the connection was accepted. */
export function connectError(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(null);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}
