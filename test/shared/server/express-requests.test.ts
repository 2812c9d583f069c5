// Requests born with the Express app's prototypes (shared/server/express-requests.ts): Express changes the prototype
// of every request and response it handles, which keeps each request's objects alive through a young-generation
// collection (the instances' memory, docs/performance.md). With the server's own constructors, the prototypes are
// already the app's when Express looks, so its setPrototypeOf changes nothing, and Express works as before.
import http from 'node:http';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { expressRequestClasses } from '../../../shared/server/express-requests.ts';
import { listen } from '../../../shared/server/lifecycle.ts';
import type { RunningServer } from '../../../shared/server/lifecycle.ts';

describe('expressRequestClasses', () => {
  let running: RunningServer | undefined;
  afterEach(async () => {
    // fetch keeps its connections open: end them, or the drain waits for its deadline.
    running?.server.closeAllConnections();
    await running?.drain();
    running = undefined;
  });

  /** A server with the classes and an app that answers with what it saw; `seen` holds each request's prototypes before Express ran. */
  async function serve(adopt: boolean) {
    const classes = expressRequestClasses();
    const app = express();
    app.get('/things/:id', (req, res) => res.json({ id: req.params.id, accept: req.get('accept') ?? null }));
    const seen: { reqIsApps: boolean; resIsApps: boolean; reqIsNodes: boolean }[] = [];
    running = await listen(
      (req, res) => {
        seen.push({
          reqIsApps: Object.getPrototypeOf(req) === app.request,
          resIsApps: Object.getPrototypeOf(res) === app.response,
          reqIsNodes: Object.getPrototypeOf(req) === http.IncomingMessage.prototype,
        });
        app(req, res);
      },
      { port: 0, host: '127.0.0.1', serverOptions: classes.serverOptions },
    );
    if (adopt) classes.adopt(app);
    return { seen, url: `http://127.0.0.1:${running.port}` };
  }

  it("When requests arrive after adopt(app), then they already have the app's prototypes before Express runs, and Express's methods answer", async () => {
    const { seen, url } = await serve(true);
    const id = `thing-${process.pid}-${Date.now()}`;

    const answers = await Promise.all([1, 2, 3].map(() => fetch(`${url}/things/${id}`, { headers: { accept: 'application/json' } })));

    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(await answers[0]!.json()).toEqual({ id, accept: 'application/json' });
    expect(seen).toEqual([1, 2, 3].map(() => ({ reqIsApps: true, resIsApps: true, reqIsNodes: false })));
  });

  it("When requests arrive before adopt (an instance that has no app yet), then they are node:http's own and Express still serves them", async () => {
    const { seen, url } = await serve(false);
    const id = `early-${process.pid}-${Date.now()}`;

    const answer = await fetch(`${url}/things/${id}`);

    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ id, accept: '*/*' });
    expect(seen).toEqual([{ reqIsApps: false, resIsApps: false, reqIsNodes: true }]);
  });

  it('When adopt is given something that is not an Express app, then it refuses and names what is missing', () => {
    const classes = expressRequestClasses();

    expect(() => classes.adopt({})).toThrow(/not an Express app/);
    expect(() => classes.adopt({ request: {}, response: {} })).toThrow(/inherit from node:http/);
  });
});
