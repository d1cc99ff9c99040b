import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Value, type ValueError } from '@sinclair/typebox/value';
import { LineCounter, parseDocument, parse as parseYamlScalar } from 'yaml';
import { type Config, ConfigSchema } from './config-schema.js';

export type { Config, ListenerConfig } from './config-schema.js';

/** A configuration problem, naming the file, the key and what was expected. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Environment variables with a well-known meaning, and the key each overrides. */
const NAMED_ENV: Record<string, string[]> = {
  ELASTICSEARCH_URL: ['elasticsearch', 'url'],
  REDIS_URL: ['redis', 'url'],
  SIEM_MODE: ['mode'],
  SIEM_DATA_DIR: ['data_dir'],
  LOG_LEVEL: ['log_level'],
};
/** Any key can be overridden as `SIEM_` + its path joined with `__`, e.g. `SIEM_API__PORT=9090`. */
const GENERIC_ENV_PREFIX = 'SIEM_';

export interface LoadedConfig {
  config: Config;
  /** The file read, or `undefined` when running on defaults. */
  file?: string;
}

export function loadConfig(options: { file?: string; env?: NodeJS.ProcessEnv } = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env.SIEM_CONFIG;
  const origins = new Map<string, string>();
  let raw: unknown = {};
  let locate: (path: string[]) => string | undefined = () => undefined;

  if (file) {
    const path = resolve(file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigError([`${path}: cannot read the configuration file (${(error as Error).message})`]);
    }
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, prettyErrors: false });
    if (doc.errors.length > 0) {
      throw new ConfigError(
        doc.errors.map((error) => {
          const pos = lineCounter.linePos(error.pos[0]);
          return `${path}:${pos.line}:${pos.col}: YAML syntax error: ${error.message.split('\n')[0]}`;
        }),
      );
    }
    raw = doc.toJS() ?? {};
    locate = (keyPath) => {
      // Walk up to the deepest node that exists so a missing key points at its parent.
      for (let depth = keyPath.length; depth >= 0; depth--) {
        const node = doc.getIn(keyPath.slice(0, depth), true) as { range?: [number, number] } | undefined;
        const range = node?.range ?? (depth === 0 ? doc.contents?.range : undefined);
        if (range) {
          const pos = lineCounter.linePos(range[0]);
          return `${path}:${pos.line}:${pos.col}`;
        }
      }
      return path;
    };
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ConfigError([`${path}: the configuration must be a YAML mapping of keys to values`]);
    }
  }

  const value = raw as Record<string, unknown>;
  for (const [name, keyPath] of envOverrides(env)) {
    setIn(value, keyPath, parseEnvValue(env[name]!));
    origins.set(keyPath.join('.'), `environment variable ${name}`);
  }

  const withDefaults = Value.Default(ConfigSchema, value) as Record<string, unknown>;
  const problems = firstErrorPerKey([...Value.Errors(ConfigSchema, withDefaults)]).map((error) => {
    const keyPath = error.path.split('/').filter(Boolean);
    const key = keyPath.join('.') || '(top level)';
    const where = origins.get(key) ?? locate(keyPath) ?? 'defaults';
    return `${where}: ${key}: ${describe(error)}`;
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return { config: withDefaults as Config, ...(file ? { file: resolve(file) } : {}) };
}

function* envOverrides(env: NodeJS.ProcessEnv): Generator<[string, string[]]> {
  for (const [name, keyPath] of Object.entries(NAMED_ENV)) {
    if (env[name] !== undefined && env[name] !== '') yield [name, keyPath];
  }
  for (const name of Object.keys(env)) {
    if (!name.startsWith(GENERIC_ENV_PREFIX) || name === 'SIEM_CONFIG' || name in NAMED_ENV) continue;
    if (env[name] === undefined || env[name] === '') continue;
    yield [name, name.slice(GENERIC_ENV_PREFIX.length).toLowerCase().split('__')];
  }
}

/** Environment values are YAML scalars or flow collections: `9090` is a number, `[a, b]` a list. */
function parseEnvValue(text: string): unknown {
  try {
    return parseYamlScalar(text);
  } catch {
    return text;
  }
}

function setIn(target: Record<string, unknown>, keyPath: string[], value: unknown): void {
  let node = target;
  for (const key of keyPath.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keyPath[keyPath.length - 1]!] = value;
}

/** TypeBox reports every branch of a union; one message per key is what a person can act on. */
function firstErrorPerKey(errors: ValueError[]): ValueError[] {
  const seen = new Map<string, ValueError>();
  for (const error of errors) {
    const existing = seen.get(error.path);
    // Prefer the most specific message over the generic "expected union value".
    if (!existing || (existing.message.includes('union') && !error.message.includes('union'))) {
      seen.set(error.path, error);
    }
  }
  return [...seen.values()];
}

function describe(error: ValueError): string {
  const schema = error.schema as Record<string, unknown>;
  const got = error.value === undefined ? 'nothing' : JSON.stringify(error.value);
  if (error.message.startsWith('Unexpected property')) return `unknown key (${got})`;
  const expected =
    (schema.description as string | undefined) ??
    (Array.isArray(schema.anyOf) && (schema.anyOf as Record<string, unknown>[]).every((s) => 'const' in s)
      ? `one of ${(schema.anyOf as Record<string, unknown>[]).map((s) => JSON.stringify(s.const)).join(', ')}`
      : error.message.toLowerCase());
  return `expected ${expected.replace(/^expected /, '')}, got ${got}`;
}
