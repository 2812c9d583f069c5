// The live dashboard of `make demo`: a small HTTP server on 127.0.0.1 that serves one page, its scripts, uPlot
// from node_modules (no CDN: the workshop may have no internet), and a Server-Sent Events stream. A browser
// that connects late gets everything so far in one "init" event, then every event as it happens.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { own } from '../../infra/cleanup.ts';

const PUBLIC_DIR = path.join(import.meta.dirname, 'public');
const UPLOT_DIST = path.join(path.dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');

/** The only files served: no path from a URL ever reaches the file system. */
export const DASHBOARD_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: path.join(PUBLIC_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/dashboard.js': { file: path.join(PUBLIC_DIR, 'dashboard.js'), type: 'text/javascript; charset=utf-8' },
  '/charts.js': { file: path.join(PUBLIC_DIR, 'charts.js'), type: 'text/javascript; charset=utf-8' },
  // The sandbox's controls (make workshop): hidden unless the page was opened with its admin token.
  '/controls.js': { file: path.join(PUBLIC_DIR, 'controls.js'), type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: path.join(PUBLIC_DIR, 'style.css'), type: 'text/css; charset=utf-8' },
  '/vendor/uPlot.iife.min.js': { file: path.join(UPLOT_DIST, 'uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  '/vendor/uPlot.min.css': { file: path.join(UPLOT_DIST, 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

export interface Dashboard {
  url: string;
  /** Sends an event to every connected browser. */
  publish(event: string, data: unknown): void;
  close(): Promise<void>;
}

export interface DashboardOptions {
  /** 0: any free port. A busy port falls back to any free one (a second demo on the same machine). */
  port: number;
  /** Everything so far, for a browser that connects now. */
  snapshot: () => unknown;
  /**
   * The sandbox's control endpoints (load/workshop/controls-api.ts): called first for every request; true when
   * it answered. Without it the dashboard is read-only (GET only).
   */
  api?: (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => boolean;
}

const KEEPALIVE_MS = 15_000;

export async function startDashboard({ port, snapshot, api }: DashboardOptions): Promise<Dashboard> {
  const clients = new Set<http.ServerResponse>();
  const send = (res: http.ServerResponse, event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const common = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };
    if (api?.(req, res, url)) return;
    if (req.method !== 'GET') {
      res.writeHead(405, { ...common, Allow: 'GET', 'Content-Type': 'text/plain' }).end('GET only\n');
      return;
    }
    if (url.pathname === '/events') {
      res.writeHead(200, { ...common, 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
      res.write('retry: 1000\n\n');
      send(res, 'init', snapshot());
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    const entry = DASHBOARD_FILES[url.pathname];
    if (!entry) {
      res.writeHead(404, { ...common, 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, {
      ...common,
      'Content-Type': entry.type,
      'Content-Security-Policy': "default-src 'self'; style-src 'self' 'unsafe-inline'",
    });
    fs.createReadStream(entry.file).pipe(res);
  });
  const keepalive = setInterval(() => {
    for (const res of clients) res.write(': keepalive\n\n');
  }, KEEPALIVE_MS);
  keepalive.unref();

  const listen = (p: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  try {
    await listen(port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw err;
    await listen(0);
  }
  const { port: bound } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = async () => {
    clearInterval(keepalive);
    for (const res of clients) res.end();
    clients.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // A browser's keep-alive connections (and a reconnecting EventSource) would hold the demo's exit.
    server.closeAllConnections();
    await closed;
    release();
  };
  const release = own({ kind: 'dashboard', name: 'dashboard', stop: () => (closing ??= close()) });
  return {
    url: `http://127.0.0.1:${bound}/`,
    publish(event, data) {
      for (const res of clients) send(res, event, data);
    },
    close: () => (closing ??= close()),
  };
}
