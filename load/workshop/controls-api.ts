// The sandbox's control endpoints on the dashboard's server: POST /api/<action> with a JSON body, guarded by
// the admin token the sandbox generated (Authorization: Bearer <token>; the page gets it from the URL the
// sandbox prints). No token: 401; a wrong one: 403; bad input: 400 naming the field; a refusal: 409 with the
// reason. The dashboard listens on 127.0.0.1 only; the token keeps other local pages (and their forms) out.
import { timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import type { ActionAnswer } from './actions.ts';

const MAX_BODY_BYTES = 10_000;

function answer(res: http.ServerResponse, { status, body }: ActionAnswer): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' }).end(`${JSON.stringify(body)}\n`);
}

const error = (status: number, code: string, message: string, field?: string): ActionAnswer => ({ status, body: { error: { code, message, ...(field ? { field } : {}) } } });

function tokenMatches(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > MAX_BODY_BYTES) {
        reject(new Error('too large'));
        req.destroy();
      }
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

export function controlsApi({ token, perform }: { token: string; perform: (action: string, input: unknown) => Promise<ActionAnswer> }) {
  return (req: http.IncomingMessage, res: http.ServerResponse, url: URL): boolean => {
    if (!url.pathname.startsWith('/api/')) return false;
    void (async () => {
      if (req.method !== 'POST') {
        res.setHeader('Allow', 'POST');
        return answer(res, error(405, 'method_not_allowed', 'POST only'));
      }
      const header = req.headers.authorization;
      if (!header) return answer(res, error(401, 'unauthorized', 'the admin token is missing: open the dashboard URL the sandbox printed (it carries ?token=...)'));
      const given = /^Bearer (.+)$/.exec(header)?.[1] ?? '';
      if (!tokenMatches(given, token)) return answer(res, error(403, 'forbidden', 'wrong admin token: use the URL the sandbox printed at its start'));
      let input: unknown;
      try {
        const text = await readBody(req);
        input = text.trim() === '' ? {} : JSON.parse(text);
      } catch {
        return answer(res, error(400, 'invalid_json', `the body must be a JSON object of at most ${MAX_BODY_BYTES} bytes`, 'body'));
      }
      answer(res, await perform(decodeURIComponent(url.pathname.slice('/api/'.length)), input));
    })().catch((err: Error) => {
      if (!res.headersSent) answer(res, error(500, 'internal', err.message));
    });
    return true;
  };
}
