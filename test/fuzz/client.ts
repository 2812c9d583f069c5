// A plain HTTP client for the fuzzers: any method, path, headers and raw body bytes on a keep-alive agent, and
// the answer as status, headers and text. supertest would start a server per request; thousands of cases need
// one listening app and reused connections.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Application } from 'express';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface Served {
  request(method: string, path: string, { headers, body }?: { headers?: Record<string, string>; body?: Buffer }): Promise<Answer>;
  close(): Promise<void>;
}

export async function serve(app: Application): Promise<Served> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  return {
    request(method, path, { headers = {}, body } = {}) {
      return new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      });
    },
    async close() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** What no error answer may contain: a stack frame, a source path, SQL, or a driver's error name. */
export const LEAK_PATTERNS = [/\n\s+at /, /\bat [^\s]+ \(/, /node_modules/, /\.ts:\d+/, /\b(SELECT|INSERT|UPDATE|DELETE) .*\b(FROM|INTO|SET)\b/i, /SQLITE_|\bER_[A-Z_]{3,}|sequelize/i];

/** The one error shape ({"error":{"code","message","details"}}, JSON) with nothing internal in it, or why not. */
export function errorShapeProblem(answer: Answer): string | null {
  if (!/^application\/json/.test(String(answer.headers['content-type']))) return `content-type ${answer.headers['content-type']}`;
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    return 'body is not JSON';
  }
  const error = (body as { error?: Record<string, unknown> }).error;
  if (!error || Object.keys(body as object).length !== 1) return 'body is not {"error": ...}';
  if (Object.keys(error).sort().join(',') !== 'code,details,message') return `error keys ${Object.keys(error).join(',')}`;
  if (typeof error.code !== 'string' || typeof error.message !== 'string') return 'code or message is not a string';
  // Bad input names the field ("name: must not be empty"); "no such route" and server-side errors have none.
  if (!['route_not_found', 'internal_error', 'database_unavailable'].includes(error.code) && !/^([\w.,-]+|"(?:[^"\\]|\\.)*")(,([\w.-]+|"(?:[^"\\]|\\.)*"))*: \S/.test(error.message)) return `message ${JSON.stringify(error.message)} names no field`;
  const leak = LEAK_PATTERNS.find((pattern) => pattern.test(answer.text));
  return leak ? `leaks internals (${leak})` : null;
}
