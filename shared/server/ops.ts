// The ops port: /livez, /healthz and /metrics, open from start to exit. The public port is closed while the
// instance is not ready (starting, lease lost, leaving), so that a balancer passes over the slot instead of
// handing a 503 to a client; this port is where an orchestrator and an operator still see why.
//   /livez    200 while the process runs, whatever the database does (restart on this, never on /healthz:
//             a database outage would restart every instance at once)
//   /healthz  200 when ready; else 503 {"status":"starting"|"lease-lost"|"stopping"}, or the app's own
//             503 {"status":"database_unavailable"} when ready but the database does not answer
import type { Application } from 'express';
import type http from 'node:http';

export type Readiness = 'starting' | 'ready' | 'lease-lost' | 'stopping';

export function opsHandler({ appVersion, instanceId, readiness, app }: { appVersion: string; instanceId: string; readiness: () => Readiness; app: () => Application | undefined }): http.RequestListener {
  const send = (res: http.ServerResponse, status: number, body: object) => {
    res.statusCode = status;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.end(JSON.stringify(body));
  };
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const built = app();
    const identity = { version: appVersion, instance: instanceId };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: { code: 'method_not_allowed', message: `${req.method} is not served on the ops port`, details: null } });
    if (path === '/livez') return send(res, 200, { ...identity, status: 'alive', pid: process.pid });
    if (path === '/healthz') {
      const state = readiness();
      if (state === 'ready' && built) return built(req, res);
      return send(res, 503, { ...identity, status: state === 'ready' ? 'starting' : state });
    }
    if (path === '/metrics' && built) return built(req, res);
    return send(res, 404, { error: { code: 'route_not_found', message: `no route for ${req.method} ${path} on the ops port`, details: null } });
  };
}
