import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

function writeConfig(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'siem-config-')), 'siem-lite.yaml');
  writeFileSync(file, text);
  return file;
}

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('runs embedded mode on defaults when there is no file', () => {
    const { config, file } = loadConfig({ env: {} });
    expect(file).toBeUndefined();
    expect(config.mode).toBe('embedded');
    expect(config.api.port).toBe(8080);
    expect(config.ingest.listeners.map((l) => `${l.transport}:${l.host}:${l.port}`)).toEqual([
      'udp:127.0.0.1:5514',
      'tcp:127.0.0.1:5514',
    ]);
    expect(config.ingest.default_timezone).toBe('Asia/Ho_Chi_Minh');
  });

  it('documents every default in siem-lite.example.yaml', () => {
    const example = new URL('../siem-lite.example.yaml', import.meta.url).pathname;
    expect(loadConfig({ file: example, env: {} }).config).toEqual(loadConfig({ env: {} }).config);
  });

  it('reads a file and fills the rest from defaults', () => {
    const file = writeConfig('mode: scale\nelasticsearch:\n  url: http://es:9200\napi:\n  port: 9000\n');
    const { config } = loadConfig({ file, env: {} });
    expect(config.mode).toBe('scale');
    expect(config.elasticsearch.url).toBe('http://es:9200');
    expect(config.elasticsearch.index_prefix).toBe('siem');
    expect(config.api).toEqual({
      host: '127.0.0.1',
      port: 9000,
      rate_limit_per_minute: 1200,
      ready_max_queue_age: '5m',
    });
  });

  it('lets well-known and generic environment variables override the file', () => {
    const file = writeConfig('mode: scale\napi:\n  port: 9000\n');
    const { config } = loadConfig({
      file,
      env: { ELASTICSEARCH_URL: 'http://10.0.0.5:9200', REDIS_URL: 'redis://r:6380', SIEM_API__PORT: '9100' },
    });
    expect(config.elasticsearch.url).toBe('http://10.0.0.5:9200');
    expect(config.redis.url).toBe('redis://r:6380');
    expect(config.api.port).toBe(9100);
  });

  it('names the file, line, key and expectation of each problem', () => {
    const file = writeConfig(
      'mode: turbo\napi:\n  port: http\n  prot: 1\ningest:\n  listeners:\n    - id: a\n      transport: sctp\n      port: 514\n',
    );
    const problems = problemsOf(() => loadConfig({ file, env: {} }));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`^${file}:1:7: mode: expected one of "embedded", "scale", got "turbo"$`),
        ),
        expect.stringMatching(new RegExp(`^${file}:3:9: api.port: expected integer`)),
        expect.stringMatching(new RegExp(`^${file}:4:9: api.prot: unknown key`)),
        expect.stringMatching(
          /ingest\.listeners\.0\.transport: expected one of "udp", "tcp", "tls", got "sctp"/,
        ),
      ]),
    );
  });

  it('names the file and key of a queue bound below one (its default depends on the mode: serve.ts)', () => {
    const file = writeConfig('queue:\n  max_pending_batches: 0\n');
    expect(problemsOf(() => loadConfig({ file, env: {} }))).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${file}:2:24: queue.max_pending_batches: expected integer to be greater or equal to 1, got 0$`,
        ),
      ),
    ]);
  });

  it('names the environment variable when an override is invalid', () => {
    const problems = problemsOf(() => loadConfig({ env: { SIEM_QUEUE__WORKER_CONCURRENCY: '0' } }));
    expect(problems).toEqual([
      expect.stringMatching(
        /^environment variable SIEM_QUEUE__WORKER_CONCURRENCY: queue.worker_concurrency: expected/,
      ),
    ]);
  });

  it('reports YAML syntax errors with their position', () => {
    const file = writeConfig('mode: [\n');
    expect(problemsOf(() => loadConfig({ file, env: {} }))[0]).toMatch(
      new RegExp(`^${file}:\\d+:\\d+: YAML syntax error`),
    );
  });

  it('reports a missing file', () => {
    expect(problemsOf(() => loadConfig({ file: '/nonexistent/siem.yaml', env: {} }))[0]).toMatch(
      /cannot read the configuration file/,
    );
  });
});
