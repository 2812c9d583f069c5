// The one error shape both versions answer with: {"error":{"code","message","details"}}. Input errors are
// 4xx naming the field; a database outage is a clean 503; anything else is a 500 with no stack trace or SQL
// (those go to the log, never to a client).
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '../db/errors.ts';
import { ValidationError } from '../validation.ts';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`);

/** body-parser's error types, mapped to the status a client should see. */
const BODY_PARSER_ERRORS: Record<string, [number, string, string]> = {
  'entity.parse.failed': [400, 'malformed_json', 'body: malformed JSON'],
  'entity.too.large': [413, 'body_too_large', 'body: larger than 16 KB'],
  'entity.verify.failed': [400, 'invalid_body', 'body: rejected'],
  'encoding.unsupported': [415, 'unsupported_encoding', 'content-encoding: unsupported'],
  'charset.unsupported': [415, 'unsupported_charset', 'content-type: charset must be utf-8'],
  'request.aborted': [400, 'request_aborted', 'body: request aborted'],
  'request.size.invalid': [400, 'invalid_body', 'body: length does not match content-length'],
  'stream.encoding.set': [500, 'internal_error', 'internal error'],
};

export const routeNotFound: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'route_not_found', `no route for ${req.method} ${req.path}`));
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const { status, code, message, details } = classify(err);
    if (status >= 500) logger.error({ err, method: req.method, url: req.originalUrl }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(status).json({ error: { code, message, details } });
  };
}

function classify(err: unknown): { status: number; code: string; message: string; details: unknown } {
  if (err instanceof HttpError || err instanceof ValidationError) return { status: err.status, code: err.code, message: err.message, details: err.details };
  const type = (err as { type?: unknown })?.type;
  if (typeof type === 'string' && BODY_PARSER_ERRORS[type]) {
    const [status, code, message] = BODY_PARSER_ERRORS[type];
    return { status, code, message, details: null };
  }
  // The router could not percent-decode a path parameter (/users/%E0%A4): the client's fault, not ours.
  if (err instanceof URIError && (err as { status?: unknown }).status === 400) {
    return { status: 400, code: 'invalid_path', message: 'path: malformed percent-encoding', details: [{ field: 'path', message: 'malformed percent-encoding' }] };
  }
  if (isDatabaseUnavailable(err)) return { status: 503, code: 'database_unavailable', message: 'database unavailable, retry later', details: null };
  return { status: 500, code: 'internal_error', message: 'internal error', details: null };
}
