// An in-memory implementation of the users HTTP contract for the generator tests, with faults on demand:
// connections reset before a request is handled, PUTs applied and then reset (no answer), and reads served one
// write behind (a stale replica), and reads that always fail. The checker must pass the first two and catch the
// third; a runner must fail the fourth (its final read cannot run). Keys are integers, as the users table's, or
// UUID strings on demand (an entity keyed by a UUID).
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeFaults {
  /** Reset the connection without handling every Nth request. */
  resetBeforeEvery?: number;
  /** Apply every Nth PUT, then reset the connection without answering. */
  resetAfterPutEvery?: number;
  /** Answer reads with the value before the latest write. */
  staleReads?: boolean;
  /** Answer every read 503 (a fleet that cannot serve reads: a final read must fail, not pass unjudged). */
  failReads?: boolean;
  /** Answer a PATCH 200 but apply nothing (what a PATCH that updates only a column nobody reads looks like from outside). */
  dropPatches?: boolean;
  /** Answer a DELETE 204 but keep the row (a delete undone by a repair racing it). */
  keepDeleted?: boolean;
  /**
   * Answer lookups (GET /users?email=) by the value before each row's latest write (an index nobody updated), and
   * return each row found with that value: rows are missed by their email and found by their old one.
   */
  staleLookups?: boolean;
}

export interface FakeKeys {
  /** Hand out UUID strings as ids (`"id": "3f2c…"`) and serve /users/<uuid>, instead of integers. */
  uuidKeys?: boolean;
}

export interface FakeUsersServer {
  url: string;
  /** Every request as `METHOD path`, in the order received. */
  requests: string[];
  close(): Promise<void>;
}

export async function startFakeUsersServer(faults: FakeFaults = {}, { uuidKeys = false }: FakeKeys = {}): Promise<FakeUsersServer> {
  const users = new Map<string, Array<{ name: string; email: string }>>();
  const seen: string[] = [];
  let nextId = 1;
  // The id as the answer's JSON gives it: a number for integer keys, the string itself for UUIDs.
  const idOf = (key: string) => (uuidKeys ? key : Number(key));
  const route = uuidKeys ? /^\/users(?:\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}))?$/ : /^\/users(?:\/(\d+))?$/;
  let requests = 0;
  let puts = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      requests++;
      seen.push(`${req.method} ${req.url}`);
      if (faults.resetBeforeEvery && requests % faults.resetBeforeEvery === 0) {
        req.socket.resetAndDestroy();
        return;
      }
      res.setHeader('X-App-Version', 'fake');
      res.setHeader('X-Instance-Id', 'fake-1');
      const send = (status: number, json: unknown) => {
        res.statusCode = status;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(json));
      };
      const notFound = () => send(404, { error: { code: 'not_found', message: 'user not found', details: null } });
      const [pathname, query] = (req.url ?? '').split('?', 2) as [string, string | undefined];
      if (req.method === 'GET' && query !== undefined && route.test(pathname) && !pathname.match(/\/users\/./)) {
        const email = new URLSearchParams(query).get('email');
        if (email === null) return send(400, { error: { code: 'invalid_query', message: 'email is required', details: [{ field: 'email', message: 'required' }] } });
        const items: Array<Record<string, unknown>> = [];
        for (const [key, versions] of users) {
          const indexed = faults.staleLookups && versions.length > 1 ? versions.at(-2)! : versions.at(-1)!;
          if (indexed.email === email) items.push({ id: idOf(key), ...indexed });
        }
        return send(200, { items, truncated: false });
      }
      const match = route.exec(req.url ?? '');
      const id = match?.[1] ?? null;
      if (req.method === 'POST' && match && id === null) {
        const { name, email } = JSON.parse(body);
        const created = uuidKeys ? randomUUID() : String(nextId++);
        users.set(created, [{ name, email }]);
        return send(201, { id: idOf(created), name, email });
      }
      const versions = id === null ? undefined : users.get(id);
      if (!match || id === null) return send(404, { error: { code: 'route_not_found', message: 'no route', details: null } });
      if (!versions) return notFound();
      if (faults.failReads && req.method === 'GET') return send(503, { error: { code: 'unavailable', message: 'reads are failing on purpose', details: null } });
      if (req.method === 'PATCH') {
        const patch = JSON.parse(body) as Partial<{ name: string; email: string }>;
        const merged = { ...versions.at(-1)!, ...patch };
        if (!faults.dropPatches) versions.push(merged);
        return send(200, { id: idOf(id), ...merged });
      }
      if (req.method === 'DELETE') {
        if (!faults.keepDeleted) users.delete(id);
        res.statusCode = 204;
        return res.end();
      }
      if (req.method === 'PUT') {
        const { name, email } = JSON.parse(body);
        versions.push({ name, email });
        if (faults.resetAfterPutEvery && ++puts % faults.resetAfterPutEvery === 0) {
          req.socket.resetAndDestroy();
          return;
        }
        return send(200, { id: idOf(id), name, email });
      }
      const shown = faults.staleReads && versions.length > 1 ? versions.at(-2)! : versions.at(-1)!;
      return send(200, { id: idOf(id), ...shown });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
