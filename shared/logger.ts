// Structured JSON logs (pino) tagged with instance and version. Quiet by default (warn): the demo and the
// tests print summaries, not request lines. At info, one line per request (requestLogger) with its request id,
// method, URL, status and time; the demo runs its instances at info and writes their output to
// $RESULTS_DIR/logs/<instance>.log.
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';
import { pinoHttp } from 'pino-http';

export function createLogger(
  { level, instanceId, appVersion }: { level: string; instanceId: string; appVersion: string },
  destination?: DestinationStream,
): Logger {
  const options = { level, base: { instance: instanceId, version: appVersion } };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * One line per request, at info. Only install it when info is enabled (createApp checks): pino-http wraps every
 * request, which costs on the hot path even when the line is then dropped. The request id is the caller's
 * X-Request-Id, or a new UUID, and is answered in X-Request-Id so a client can find its line.
 */
export function requestLogger(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    genReqId: (req, res) => {
      const id = req.headers['x-request-id']?.toString().slice(0, 128) || randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    // The request line only: headers would repeat the same few values on every line.
    serializers: {
      req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}
