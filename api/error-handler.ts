import type { NextFunction, Request, Response } from 'express';
import { ConnectionError } from 'sequelize';
import { z } from 'zod';
import { AppError, DependencyUnavailableError, ValidationError } from '../domain/errors';
import { isTransientDatabaseError } from '../db/transient';
import type { Logger } from '../observability/logger';

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export function fieldsFromZod(err: z.ZodError, prefix?: string): Array<{ field: string; message: string }> {
  const name = (path: PropertyKey[]) => [prefix, ...path.map(String)].filter((p) => p !== undefined && p !== '').join('.') || (prefix ?? '(body)');
  // An unknown key is named itself (`signal.is_admin`), not its parent object.
  return err.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ field: name([...i.path, k]), message: 'unknown field' }))
      : [{ field: name(i.path), message: i.message }],
  );
}

/** Body-parser failures carry a `type`; map them to 400/413 with the envelope rather than Express's HTML page. */
function fromBodyParser(err: unknown): AppError | undefined {
  const e = err as { type?: string; status?: number; limit?: number };
  if (e?.type === 'entity.parse.failed')
    return new AppError(400, 'malformed_json', 'the request body is not valid JSON', { fields: [{ field: '(body)', message: 'malformed JSON' }] });
  if (e?.type === 'entity.too.large')
    return new AppError(413, 'body_too_large', `the request body is larger than ${e.limit} bytes`, { fields: [{ field: '(body)', message: 'too large' }], limit: e.limit });
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported')
    return new AppError(415, 'unsupported_encoding', 'the request body encoding is not supported');
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && e.type)
    return new AppError(e.status, 'bad_request', 'the request could not be read', { type: e.type });
  return undefined;
}

/** The one error middleware: every 4xx/5xx leaves as {"error": {code, message, details}}. */
export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let appErr: AppError;
    if (err instanceof AppError) appErr = err;
    else if (err instanceof z.ZodError) appErr = new ValidationError('the request is not valid', fieldsFromZod(err));
    // PostgreSQL unreachable: a 503 the caller may retry, not an internal error (the transaction was not committed).
    else if (err instanceof ConnectionError) appErr = new DependencyUnavailableError('postgres', 'the database is unavailable; retry later', { cause: err });
    // A deadlock victim or serialization failure that outlived its retries: nothing was committed, the caller may retry.
    else if (isTransientDatabaseError(err)) appErr = new DependencyUnavailableError('postgres', 'the database was busy with a conflicting change; retry later', { cause: err });
    else appErr = fromBodyParser(err) ?? new AppError(500, 'internal_error', 'something went wrong on our side', undefined, { cause: err });
    if (appErr.status >= 500) {
      logger.error({ err, code: appErr.code, path: req.path, request_id: res.locals.requestId }, 'request failed');
    }
    const body: ErrorBody = { error: { code: appErr.code, message: appErr.message } };
    if (appErr.details !== undefined) body.error.details = appErr.details;
    res.status(appErr.status).json(body);
  };
}
