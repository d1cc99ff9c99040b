import { type Static, Type as T } from '@sinclair/typebox';

/**
 * The configuration file's schema (`siem-lite.yaml`). Keys are snake_case as written in YAML; every key
 * has a default so that no file at all means a working embedded mode. Unknown keys are errors: a typo
 * must not silently fall back to a default.
 */
const Duration = T.String({
  pattern: '^\\d+(\\.\\d+)?\\s*(ms|s|m|h|d|w)$',
  description: 'a duration like 30s, 5m, 24h, 7d',
});
const Port = T.Integer({ minimum: 0, maximum: 65535 });
const Severity = T.Union([T.Literal('low'), T.Literal('medium'), T.Literal('high'), T.Literal('critical')]);
const strict = { additionalProperties: false } as const;

export const ListenerSchema = T.Object(
  {
    id: T.String({ minLength: 1, pattern: '^[a-z0-9][a-z0-9_-]*$' }),
    transport: T.Union([T.Literal('udp'), T.Literal('tcp'), T.Literal('tls')]),
    host: T.String({ default: '127.0.0.1' }),
    port: Port,
    /** Force a source parser for everything on this listener (e.g. `fortigate`); default: detect. */
    parser: T.Optional(T.String()),
    /** Agency for everything on this listener, when one port is dedicated to one agency. */
    agency: T.Optional(T.String()),
    /** TCP/TLS: connections open at once; further ones are refused and counted (default 1000). */
    max_connections: T.Optional(T.Integer({ minimum: 1, maximum: 1_000_000 })),
    /** TCP/TLS: a connection silent this long is closed (default 5m). */
    idle_timeout: T.Optional(Duration),
    /** TLS (RFC 5425): PEM files. With `ca`, client certificates are verified and their subject names the agency. */
    tls: T.Optional(
      T.Object(
        {
          cert: T.String({ minLength: 1 }),
          key: T.String({ minLength: 1 }),
          ca: T.Optional(T.String({ minLength: 1 })),
          /** Refuse clients without a certificate signed by `ca` (mutual TLS). */
          require_client_cert: T.Optional(T.Boolean()),
        },
        strict,
      ),
    ),
  },
  strict,
);

export const ConfigSchema = T.Object(
  {
    mode: T.Union([T.Literal('embedded'), T.Literal('scale')], { default: 'embedded' }),
    data_dir: T.String({ default: './data' }),
    log_level: T.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => T.Literal(level)),
      { default: 'info' },
    ),
    elasticsearch: T.Object(
      {
        url: T.String({ default: 'http://127.0.0.1:9200', pattern: '^https?://' }),
        index_prefix: T.String({ default: 'siem', pattern: '^[a-z0-9][a-z0-9_-]*$' }),
        username: T.Optional(T.String()),
        password: T.Optional(T.String()),
        request_timeout: T.Union([Duration], { default: '30s' }),
      },
      { ...strict, default: {} },
    ),
    redis: T.Object(
      {
        url: T.String({ default: 'redis://127.0.0.1:6379', pattern: '^rediss?://' }),
        prefix: T.String({ default: 'siem', minLength: 1 }),
      },
      { ...strict, default: {} },
    ),
    api: T.Object(
      {
        host: T.String({ default: '127.0.0.1' }),
        port: T.Union([Port], { default: 8080 }),
        /** Requests per minute per API key (per address without one); shared by every API process in scale mode. */
        rate_limit_per_minute: T.Integer({ minimum: 1, maximum: 1_000_000, default: 1200 }),
        /** `/readyz` fails when a batch has waited this long for a worker (workers stuck or gone). */
        ready_max_queue_age: T.Union([Duration], { default: '5m' }),
      },
      { ...strict, default: {} },
    ),
    ingest: T.Object(
      {
        listeners: T.Array(ListenerSchema, {
          default: [
            { id: 'syslog-udp', transport: 'udp', host: '127.0.0.1', port: 5514 },
            { id: 'syslog-tcp', transport: 'tcp', host: '127.0.0.1', port: 5514 },
          ],
        }),
        max_message_bytes: T.Integer({ minimum: 256, maximum: 16 * 1024 * 1024, default: 65536 }),
        batch_max_records: T.Integer({ minimum: 1, maximum: 100_000, default: 500 }),
        batch_max_wait: T.Union([Duration], { default: '200ms' }),
        /** RFC 3164 timestamps have no zone: read them in this one unless the agency sets its own. */
        default_timezone: T.String({ default: 'Asia/Ho_Chi_Minh' }),
      },
      { ...strict, default: {} },
    ),
    agencies_file: T.String({ default: 'fixtures/agencies/hau-giang.yaml' }),
    rules: T.Object(
      {
        packs: T.Array(T.String(), { default: ['rules/packs/hau-giang'] }),
      },
      { ...strict, default: {} },
    ),
    incidents: T.Object(
      {
        /** A detection joins an open incident with the same key if it was last seen within this window. */
        suppression_window: T.Union([Duration], { default: '24h' }),
        /** Grouping fields used when a rule has no group-by of its own. */
        group_by: T.Array(T.String(), { default: ['source.ip'] }),
        /** A detection for a key whose incident was resolved: reopen it, or open a new incident linked to it. */
        on_recurrence: T.Union([T.Literal('reopen'), T.Literal('link')], { default: 'reopen' }),
      },
      { ...strict, default: {} },
    ),
    correlation: T.Object(
      {
        /** Out-of-order hits this far behind their group's newest still count; later ones are flagged. */
        allowed_lateness: T.Union([Duration], { default: '5m' }),
        /** Hits retained per (correlation rule, group) at most; the oldest beyond are dropped and logged. */
        max_hits_per_group: T.Integer({ minimum: 10, maximum: 1_000_000, default: 10_000 }),
      },
      { ...strict, default: {} },
    ),
    notifications: T.Object(
      {
        /** One message per key (incident, or agency + rule for e-mail) per this window: a storm is one message. */
        throttle: T.Union([Duration], { default: '15m' }),
        /** Outbound webhooks: JSON POSTs signed with HMAC-SHA256 (`X-Siem-Signature: sha256=<hex>`). */
        webhooks: T.Array(
          T.Object(
            {
              url: T.String({ pattern: '^https?://' }),
              /** HMAC key; without it the body is sent unsigned. */
              secret: T.Optional(T.String({ minLength: 1 })),
              /** Only these agencies' incidents (default: all). */
              agencies: T.Optional(T.Array(T.String())),
              min_severity: T.Union([Severity], { default: 'medium' }),
            },
            strict,
          ),
          { default: [] },
        ),
        /** Attempts per webhook delivery, with exponential backoff from `retry_backoff`. */
        retry_attempts: T.Integer({ minimum: 1, maximum: 20, default: 5 }),
        retry_backoff: T.Union([Duration], { default: '1s' }),
        /** E-mail to the agency's on-call address (agencies file `oncall_email`) through SMTP over TLS. */
        email: T.Object(
          {
            enabled: T.Boolean({ default: false }),
            host: T.String({ default: '127.0.0.1' }),
            port: T.Union([Port], { default: 587 }),
            /** `starttls` (submission, port 587: TLS required) or `tls` (implicit TLS, port 465). */
            security: T.Union([T.Literal('starttls'), T.Literal('tls')], { default: 'starttls' }),
            username: T.Optional(T.String()),
            password: T.Optional(T.String()),
            /** PEM file of the CA that signed the server's certificate, when not a public one. */
            ca_file: T.Optional(T.String()),
            from: T.String({ default: 'siem-lite@localhost' }),
            /** For agencies without an on-call address (and province-wide incidents). */
            fallback_to: T.Optional(T.String()),
            min_severity: T.Union([Severity], { default: 'high' }),
          },
          { ...strict, default: {} },
        ),
      },
      { ...strict, default: {} },
    ),
    queue: T.Object(
      {
        /**
         * Batches waiting before producers are told to back off. Default by mode (bin/commands/serve.ts
         * `maxPendingBatches`): 50 embedded, where they wait in serve's memory; 200 scale, in Redis.
         */
        max_pending_batches: T.Optional(T.Integer({ minimum: 1 })),
        worker_concurrency: T.Integer({ minimum: 1, maximum: 64, default: 2 }),
        /** A worker silent this long (crashed, killed) loses its batch to another worker (BullMQ lock). */
        stall_timeout: T.Union([Duration], { default: '30s' }),
      },
      { ...strict, default: {} },
    ),
    retention: T.Object(
      {
        /** Events older than this many whole UTC days are deleted (daily indices / SQLite rows). */
        events_days: T.Integer({ minimum: 1, maximum: 3650, default: 30 }),
        /** How often `serve` checks for days past retention. */
        check_every: T.Union([Duration], { default: '1h' }),
      },
      { ...strict, default: {} },
    ),
  },
  strict,
);

export type Config = Static<typeof ConfigSchema>;
export type ListenerConfig = Static<typeof ListenerSchema>;
