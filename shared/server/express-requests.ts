// Request and response objects born with an Express app's prototypes, so that Express does not change them per
// request.
//
// Express gives every request its methods (req.get, res.json, ...) by `Object.setPrototypeOf(req, app.request)`
// and `Object.setPrototypeOf(res, app.response)` in app.handle. V8 then keeps every request's objects alive
// through a young-generation collection (measured on Node 20 under the bench's 20-connection GET/PUT mix: 45% of
// the young generation survived each scavenge, ~4 MB promoted each time, against 0.1% and nothing for plain
// node:http), so old space fills with dead requests and V8 lets it grow about 4x before collecting it: Express
// alone, with no database, peaked at 118 MB resident, and at 78 MB with the objects below, at 2.4x the
// throughput (expressjs/express#5998 reports the throughput side). Node's http server can create its requests
// and responses from constructors of our own (`IncomingMessage` / `ServerResponse` options); when their
// prototypes ARE the app's, Express's setPrototypeOf is a no-op (same prototype) and nothing else changes:
// the same objects, the same methods, the same Express.
//
//   const classes = expressRequestClasses();
//   const server = http.createServer(classes.serverOptions, handler);   // before the app exists
//   classes.adopt(app);                                                 // from the next request on
import http from 'node:http';
import type net from 'node:net';

export interface ExpressRequestClasses {
  /** For http.createServer: requests and responses made by the constructors below. */
  readonly serverOptions: http.ServerOptions;
  /** Requests and responses created from now on have the app's prototypes (app.request, app.response). */
  adopt(app: object): void;
}

type Constructor = { prototype: object };

export function expressRequestClasses(): ExpressRequestClasses {
  // Plain constructor functions, not subclasses: node:http's IncomingMessage and ServerResponse are themselves
  // constructor functions, so calling them on `this` initialises the object exactly as `new` does, and the
  // object's prototype is whatever `.prototype` says when node:http calls `new` (until adopt: node's own).
  const incoming = http.IncomingMessage as unknown as (this: object, socket: net.Socket) => void;
  const outgoing = http.ServerResponse as unknown as (this: object, req: http.IncomingMessage, options?: object) => void;
  const Request: Constructor = function (this: object, socket: net.Socket) {
    incoming.call(this, socket);
  };
  const Response: Constructor = function (this: object, req: http.IncomingMessage, options?: object) {
    outgoing.call(this, req, options);
  };
  Request.prototype = http.IncomingMessage.prototype;
  Response.prototype = http.ServerResponse.prototype;
  return {
    serverOptions: {
      IncomingMessage: Request as unknown as typeof http.IncomingMessage,
      ServerResponse: Response as unknown as typeof http.ServerResponse,
    },
    adopt(app) {
      // Express sets both on every app (express.js createApplication); their absence means this is not one.
      const { request, response } = app as { request?: unknown; response?: unknown };
      if (!isPrototype(request, http.IncomingMessage) || !isPrototype(response, http.ServerResponse)) {
        throw new Error('expressRequestClasses.adopt: not an Express app (its request and response must inherit from node:http\'s)');
      }
      Request.prototype = request;
      Response.prototype = response;
    },
  };
}

function isPrototype(value: unknown, base: { prototype: object }): value is object {
  return typeof value === 'object' && value !== null && base.prototype.isPrototypeOf(value);
}
