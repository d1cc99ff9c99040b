import type { FastifyError, FastifyInstance } from 'fastify';
import { StoreQueryError, StoreUnavailableError } from '../store/errors.js';

/** An error a client caused: answered with its status, a machine-readable code and a human message. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The shape of every error body (also in the OpenAPI document). */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; requestId: string };
}

/**
 * One error handler for the whole API: validation failures become 400 `invalid_request`, ApiErrors keep
 * their code, anything else is a 500 with no stack trace (the trace goes to the log with the request id).
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    let status: number;
    let code: string;
    let message = error.message;
    let details: unknown;
    if (error instanceof ApiError) {
      status = error.statusCode;
      code = error.code;
      details = error.details;
    } else if (error instanceof StoreQueryError) {
      status = 400;
      code = 'invalid_query';
      details = error.column !== undefined ? { column: error.column } : undefined;
    } else if (error instanceof StoreUnavailableError) {
      status = 503;
      code = 'unavailable';
      message = 'the store is unavailable; retry shortly';
      request.log.warn({ err: error }, 'store unavailable');
    } else if ((error as FastifyError).validation) {
      status = 400;
      code = 'invalid_request';
      details = (error as FastifyError).validation;
    } else if (
      (error as FastifyError).statusCode &&
      (error as FastifyError).statusCode! >= 400 &&
      (error as FastifyError).statusCode! < 500
    ) {
      status = (error as FastifyError).statusCode!;
      code = ((error as FastifyError).code ?? 'bad_request').toLowerCase().replace(/^fst_err_/, '');
    } else {
      status = 500;
      code = 'internal_error';
      message = 'internal error; the request id identifies it in the server log';
      request.log.error({ err: error }, 'request failed');
    }
    const body: ErrorBody = {
      error: { code, message, ...(details ? { details } : {}), requestId: request.id },
    };
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = {
      error: {
        code: 'not_found',
        message: `no route ${request.method} ${request.url}`,
        requestId: request.id,
      },
    };
    void reply.status(404).send(body);
  });
}
