/**
 * Errors a store raises to its callers. A query error is the caller's fault (the API answers 400 with the
 * message and, when known, the column); an unavailable store is transient (the worker leaves the batch
 * on the queue and retries later, so nothing is lost).
 */
export class StoreQueryError extends Error {
  override readonly name = 'StoreQueryError';
  /** 1-based column in the query text, when the error is about a place in it. */
  readonly column: number | undefined;

  constructor(message: string, column?: number) {
    super(message);
    this.column = column;
  }
}

export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
