// The Express app both versions share: security headers, a 16 KB JSON body limit, the version headers,
// /healthz, the admin API, and the one error shape. A version supplies only its user routes.
import express from 'express';
import type { Application, Router } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { Database } from '../db/connection.ts';
import type { Flags } from '../flags/index.ts';
import { flagNames, flagNumericValue } from '../flags/registry.ts';
import { requestMetrics } from '../metrics.ts';
import type { Metrics } from '../metrics.ts';
import { isUtf8 } from 'node:buffer';
import { requestLogger } from '../logger.ts';
import { mapping } from '../schema-mapping.ts';
import { adminRouter } from './admin.ts';
import type { FlagWriter } from './admin.ts';
import { findDuplicateKey } from './duplicate-keys.ts';
import { errorHandler, HttpError, routeNotFound } from './errors.ts';

export const BODY_LIMIT = '16kb';

export interface AppContext {
  appVersion: string;
  instanceId: string;
  db: Database;
  flags: Flags;
  logger: Logger;
  adminToken?: string | undefined;
  /** How the admin API writes flags: through the rollout's gate (the app hands in gatedFlagWrite). */
  writeFlags: FlagWriter;
  /** Served on /metrics (not proxied by the public balancer). */
  metrics: Metrics;
}

export function createApp(context: AppContext, userRoutes: Router): Application {
  const { appVersion, instanceId, db, flags, logger } = context;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(helmet());
  app.use(requestMetrics(context.metrics));
  // One log line per request, only when asked for (LOG_LEVEL=info or lower): it costs on the hot path.
  if (logger.isLevelEnabled('info')) app.use(requestLogger(logger));
  app.use((_req, res, next) => {
    res.set('X-App-Version', appVersion);
    res.set('X-Instance-Id', instanceId);
    next();
  });
  // A write must say it is JSON; anything else is refused before the body is read.
  app.use((req, _res, next) => {
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if ((req.method === 'POST' || req.method === 'PUT') && mediaType !== 'application/json') {
      return next(new HttpError(415, 'unsupported_media_type', 'content-type: must be application/json'));
    }
    next();
  });
  app.use(
    express.json({
      limit: BODY_LIMIT,
      strict: true,
      verify: (_req, _res, buffer) => {
        // JSON is UTF-8 (RFC 8259); decoding invalid bytes would silently store U+FFFD instead of what was sent.
        if (!isUtf8(buffer)) throw new HttpError(400, 'invalid_encoding', 'body: must be valid UTF-8', [{ field: 'body', message: 'not valid UTF-8' }]);
        const duplicate = findDuplicateKey(buffer.toString('utf8'));
        if (duplicate !== null) throw new HttpError(400, 'duplicate_field', `${duplicate}: appears more than once`, [{ field: duplicate, message: 'duplicate field' }]);
      },
    }),
  );

  app.get('/healthz', async (_req, res) => {
    const loaded = flags.loaded();
    const body = { version: appVersion, instance: instanceId, flags: loaded.values, flagSetVersion: loaded.version, flagsLoadedAt: loaded.loadedAt };
    try {
      await db.select('SELECT 1 AS ok');
      res.json({ ...body, status: 'ok' });
    } catch (err) {
      logger.warn({ err }, 'health check: database unreachable');
      res.status(503).json({ ...body, status: 'database_unavailable' });
    }
  });
  app.use(mapping.route, userRoutes);
  app.get('/metrics', async (_req, res) => {
    const { values, version } = flags.loaded();
    for (const flag of flagNames) context.metrics.flagValue.set({ flag }, flagNumericValue(flag, values[flag]));
    context.metrics.flagSetVersion.set(version ?? -1);
    res.type(context.metrics.registry.contentType).send(await context.metrics.registry.metrics());
  });
  if (context.adminToken) app.use('/admin', adminRouter({ db, token: context.adminToken, instanceId, writeFlags: context.writeFlags }));
  app.use(routeNotFound);
  app.use(errorHandler(logger));
  return app;
}
