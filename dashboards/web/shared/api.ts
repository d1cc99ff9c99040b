/**
 * The API as the pages see it: JSON over fetch with the key as a Bearer token, errors turned into
 * ApiRequestError with the API's code, message and details (docs/api.md). Paths only: the key is never put
 * in a URL.
 */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; requestId?: string };
}

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

export type Query = Record<string, string | number | boolean | string[] | undefined>;

export function queryString(query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === '') continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(name, String(item));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

export class ApiClient {
  constructor(
    private readonly key: string,
    /** Called on 401: the key was revoked or mistyped; the page goes back to sign-in. */
    private readonly onUnauthorized: () => void = () => {},
  ) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.key}`, accept: 'application/json', ...extra };
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', `${path}${queryString(query)}`);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  /** A conditional GET (ETag / If-None-Match): `undefined` when the server answers 304 Not Modified. */
  async getIfChanged<T>(path: string, etag?: string): Promise<{ body: T; etag?: string } | undefined> {
    const response = await fetch(path, {
      headers: this.headers(etag ? { 'if-none-match': etag } : {}),
      cache: 'no-store',
    });
    if (response.status === 304) return undefined;
    const body = await this.#read<T>(response);
    const tag = response.headers.get('etag');
    return { body, ...(tag ? { etag: tag } : {}) };
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(path, {
      method,
      headers: this.headers(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      cache: 'no-store',
    });
    return this.#read<T>(response);
  }

  async #read<T>(response: Response): Promise<T> {
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (response.ok) return parsed as T;
    if (response.status === 401) this.onUnauthorized();
    const error = (parsed as ErrorBody | undefined)?.error;
    throw new ApiRequestError(
      response.status,
      error?.code ?? `http_${response.status}`,
      error?.message ?? (response.statusText || `HTTP ${response.status}`),
      error?.details,
      error?.requestId,
    );
  }
}
