// The dashboard server (load/observe/dashboard/server.ts): its page and uPlot served locally (no CDN), nothing else
// from the file system, and Server-Sent Events that give a late browser everything so far, then each event.
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startDashboard } from '../../load/observe/dashboard/server.ts';
import type { Dashboard } from '../../load/observe/dashboard/server.ts';
import { readEvents } from '../support/event-stream.ts';

const opened: Dashboard[] = [];
afterEach(async () => {
  for (const dashboard of opened.splice(0)) await dashboard.close();
});

async function start(port = 0, snapshot: () => unknown = () => ({ samples: [] })): Promise<Dashboard> {
  const dashboard = await startDashboard({ port, snapshot });
  opened.push(dashboard);
  return dashboard;
}

/** A raw GET (fetch would normalize "/../"), answered with status, content type and body. */
function rawGet(url: string, path: string): Promise<{ status: number; type: string; body: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
      })
      .on('error', reject);
  });
}

describe('the dashboard server', () => {
  it('When a browser asks for the page, then the page and uPlot come from this server, and no other file does', async () => {
    const { url } = await start();

    const page = await rawGet(url, '/');
    const uplot = await rawGet(url, '/vendor/uPlot.iife.min.js');
    const traversal = await rawGet(url, '/vendor/../../package.json');
    const encoded = await rawGet(url, '/%2e%2e/package.json');

    expect(page).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect(page.body).toContain('src="/vendor/uPlot.iife.min.js"');
    expect(page.body).not.toMatch(/https?:\/\//);
    expect(uplot.status).toBe(200);
    expect(uplot.body).toContain('uPlot');
    expect(traversal.status).toBe(404);
    expect(encoded.status).toBe(404);
  });

  it('When a browser connects late, then it gets everything so far in one init event, then each published event', async () => {
    const dashboard = await start(0, () => ({ samples: [{ second: 1 }, { second: 2 }] }));

    const events = await readEvents(dashboard.url, 2, () => dashboard.publish('step', { n: 3, step: '3-cross-version' }));

    expect(events).toEqual([
      { event: 'init', data: { samples: [{ second: 1 }, { second: 2 }] } },
      { event: 'step', data: { n: 3, step: '3-cross-version' } },
    ]);
  });

  it('When its port is taken (a second demo), then it serves on another free port', async () => {
    const first = await start(0);
    const port = Number(new URL(first.url).port);

    const second = await start(port);

    expect(Number(new URL(second.url).port)).not.toBe(port);
    expect((await rawGet(second.url, '/')).status).toBe(200);
  });
});
