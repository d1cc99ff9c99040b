import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCallback) as (secret: string, salt: Buffer, length: number) => Promise<Buffer>;

export const ROLES = ['admin', 'analyst', 'agency_analyst', 'ioc', 'ingest'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKeyRecord {
  id: string;
  name: string;
  role: Role;
  /** Agencies an `agency_analyst` or `ingest` key is bound to; empty = province-wide. */
  agencies: string[];
  salt: string;
  hash: string;
  createdAt: string;
  revokedAt?: string;
}

/** The caller, as resolved from a valid key. */
export interface Principal {
  keyId: string;
  name: string;
  role: Role;
  /** `undefined` = every agency. */
  agencies?: string[];
}

const KEY_PREFIX = 'sl_';
const HASH_BYTES = 32;

/**
 * API keys, stored hashed with scrypt (a slow hash: a stolen key file does not give keys away).
 * A key reads `sl_<id>_<secret>`: the id finds the record, the secret is verified against the hash.
 * Verified keys are cached by their full text so a busy client costs one scrypt, not one per request.
 */
export class ApiKeyStore {
  private records: ApiKeyRecord[];
  private readonly verified = new Map<string, Principal>();

  constructor(private readonly file: string) {
    this.records = existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as { keys: ApiKeyRecord[] }).keys
      : [];
  }

  static inDataDir(dataDir: string): ApiKeyStore {
    return new ApiKeyStore(join(dataDir, 'api-keys.json'));
  }

  list(): Omit<ApiKeyRecord, 'salt' | 'hash'>[] {
    return this.records.map(({ salt: _salt, hash: _hash, ...visible }) => visible);
  }

  hasActive(role: Role): boolean {
    return this.records.some((record) => record.role === role && !record.revokedAt);
  }

  /** Creates a key and returns its text: the only time it is ever visible. */
  async create(input: {
    name: string;
    role: Role;
    agencies?: string[];
  }): Promise<{ key: string; id: string }> {
    const id = randomBytes(6).toString('hex');
    const secret = randomBytes(24).toString('base64url');
    const salt = randomBytes(16);
    const hash = await scrypt(secret, salt, HASH_BYTES);
    this.records.push({
      id,
      name: input.name,
      role: input.role,
      agencies: input.agencies ?? [],
      salt: salt.toString('base64'),
      hash: hash.toString('base64'),
      createdAt: new Date().toISOString(),
    });
    this.save();
    return { key: `${KEY_PREFIX}${id}_${secret}`, id };
  }

  revoke(id: string): boolean {
    const record = this.records.find((candidate) => candidate.id === id && !candidate.revokedAt);
    if (!record) return false;
    record.revokedAt = new Date().toISOString();
    for (const [key, principal] of this.verified) if (principal.keyId === id) this.verified.delete(key);
    this.save();
    return true;
  }

  /** The principal for a presented key, or `undefined` (unknown, revoked or wrong secret). */
  async verify(key: string): Promise<Principal | undefined> {
    const cached = this.verified.get(key);
    if (cached) return cached;
    if (!key.startsWith(KEY_PREFIX)) return undefined;
    const separator = key.indexOf('_', KEY_PREFIX.length);
    if (separator < 0) return undefined;
    const id = key.slice(KEY_PREFIX.length, separator);
    const record = this.records.find((candidate) => candidate.id === id && !candidate.revokedAt);
    if (!record) return undefined;
    const expected = Buffer.from(record.hash, 'base64');
    const actual = await scrypt(key.slice(separator + 1), Buffer.from(record.salt, 'base64'), HASH_BYTES);
    if (!timingSafeEqual(expected, actual)) return undefined;
    const principal: Principal = {
      keyId: record.id,
      name: record.name,
      role: record.role,
      ...(record.agencies.length > 0 ? { agencies: record.agencies } : {}),
    };
    this.verified.set(key, principal);
    return principal;
  }

  private save(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.tmp`;
    writeFileSync(temporary, JSON.stringify({ keys: this.records }, null, 2), { mode: 0o600 });
    renameSync(temporary, this.file);
    chmodSync(this.file, 0o600);
  }
}

/**
 * First start: creates the admin key, writes it to `<dataDir>/admin.key` (mode 0600) and returns it so the
 * caller can print it once. Later starts return `undefined`.
 */
export async function ensureAdminKey(
  keys: ApiKeyStore,
  dataDir: string,
): Promise<{ key: string; file: string } | undefined> {
  if (keys.hasActive('admin')) return undefined;
  const { key } = await keys.create({ name: 'admin (first start)', role: 'admin' });
  const file = join(dataDir, 'admin.key');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { key, file };
}
