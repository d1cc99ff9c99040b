import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ApiKeyRepository, StoredApiKey } from '../core/ports.js';

const scrypt = promisify(scryptCallback) as (secret: string, salt: Buffer, length: number) => Promise<Buffer>;

export const ROLES = ['admin', 'analyst', 'agency_analyst', 'ioc', 'ingest'] as const;
export type Role = (typeof ROLES)[number];

/** A key as shown to admins: everything but the hash. */
export type ApiKeyInfo = Omit<StoredApiKey, 'salt' | 'hash'> & { role: Role };

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
/** A cached key is checked against the store again after this long: revocations reach every process. */
export const DEFAULT_RECHECK_MS = 2000;
const MAX_CACHED_KEYS = 10_000;

export class KeyPolicyError extends Error {
  override readonly name = 'KeyPolicyError';
}

/** Role ↔ agency rules: scoped roles need agencies, an ingest key names exactly one. */
export function checkKeyPolicy(role: Role, agencies: string[]): void {
  if (role === 'agency_analyst' && agencies.length === 0) {
    throw new KeyPolicyError('an agency_analyst key needs at least one agency');
  }
  if (role === 'ingest' && agencies.length !== 1) {
    throw new KeyPolicyError('an ingest key is bound to exactly one agency');
  }
  if (role === 'admin' && agencies.length > 0) {
    throw new KeyPolicyError('an admin key is province-wide: give it no agency');
  }
}

/** The id part of a presented key (`sl_<id>_<secret>`), for rate limiting and logs; never the secret. */
export function keyIdOf(key: string): string | undefined {
  if (!key.startsWith(KEY_PREFIX)) return undefined;
  const separator = key.indexOf('_', KEY_PREFIX.length);
  if (separator < 0) return undefined;
  const id = key.slice(KEY_PREFIX.length, separator);
  return /^[0-9a-f]{12}$/.test(id) ? id : undefined;
}

/**
 * API keys, stored hashed with scrypt (a slow hash: a stolen store does not give keys away) in a repository
 * every API process shares. A key reads `sl_<id>_<secret>`: the id finds the record, the secret is checked
 * against the hash. Verified keys are cached by their full text so a busy client costs one scrypt, not one
 * per request; a cached key is re-read (by id, no hashing) every `recheckMs`, so a key revoked by another
 * process stops working within seconds.
 */
export class ApiKeyService {
  private readonly verified = new Map<string, { principal: Principal; checkedAt: number }>();
  private readonly recheckMs: number;

  constructor(
    private readonly repository: ApiKeyRepository,
    options: { recheckMs?: number } = {},
  ) {
    this.recheckMs = options.recheckMs ?? DEFAULT_RECHECK_MS;
  }

  async list(): Promise<ApiKeyInfo[]> {
    return (await this.repository.list()).map(visible);
  }

  async get(id: string): Promise<ApiKeyInfo | undefined> {
    const record = await this.repository.get(id);
    return record ? visible(record) : undefined;
  }

  async hasActive(role: Role): Promise<boolean> {
    return (await this.repository.list()).some((record) => record.role === role && !record.revokedAt);
  }

  /** Creates a key and returns its text: the only time it is ever visible. */
  async create(input: {
    name: string;
    role: Role;
    agencies?: string[];
    createdBy?: string;
  }): Promise<{ key: string; info: ApiKeyInfo }> {
    return (await this.#create(input))!;
  }

  /**
   * Creates a key with this id unless one exists (`undefined` then): processes racing on the same id
   * create it once.
   */
  async createIfAbsent(
    id: string,
    input: { name: string; role: Role; agencies?: string[]; createdBy?: string },
  ): Promise<{ key: string; info: ApiKeyInfo } | undefined> {
    return this.#create(input, id);
  }

  async #create(
    input: { name: string; role: Role; agencies?: string[]; createdBy?: string },
    fixedId?: string,
  ): Promise<{ key: string; info: ApiKeyInfo } | undefined> {
    const agencies = [...new Set(input.agencies ?? [])];
    checkKeyPolicy(input.role, agencies);
    const secret = randomBytes(24).toString('base64url');
    const salt = randomBytes(16);
    const hash = await scrypt(secret, salt, HASH_BYTES);
    for (;;) {
      const record: StoredApiKey = {
        id: fixedId ?? randomBytes(6).toString('hex'),
        name: input.name,
        role: input.role,
        agencies,
        salt: salt.toString('base64'),
        hash: hash.toString('base64'),
        createdAt: new Date().toISOString(),
        ...(input.createdBy ? { createdBy: input.createdBy } : {}),
      };
      // A 48-bit id collision is unlikely; on one, draw another id rather than overwrite.
      if ((await this.repository.create(record)) === 'ok') {
        return { key: `${KEY_PREFIX}${record.id}_${secret}`, info: visible(record) };
      }
      if (fixedId !== undefined) return undefined;
    }
  }

  /** Revokes a key; its cached verifications end here at once and in other processes within `recheckMs`. */
  async revoke(id: string): Promise<ApiKeyInfo | undefined> {
    if (!(await this.repository.revoke(id, new Date().toISOString()))) return undefined;
    for (const [key, entry] of this.verified) if (entry.principal.keyId === id) this.verified.delete(key);
    const record = await this.repository.get(id);
    return record ? visible(record) : undefined;
  }

  /** The principal for a presented key, or `undefined` (unknown, revoked or wrong secret). */
  async verify(key: string): Promise<Principal | undefined> {
    const cached = this.verified.get(key);
    const now = Date.now();
    if (cached && now - cached.checkedAt < this.recheckMs) return cached.principal;
    const id = keyIdOf(key);
    if (id === undefined) return undefined;
    const record = await this.repository.get(id);
    if (!record || record.revokedAt || !(ROLES as readonly string[]).includes(record.role)) {
      this.verified.delete(key);
      return undefined;
    }
    if (cached) {
      cached.checkedAt = now;
      return cached.principal;
    }
    const expected = Buffer.from(record.hash, 'base64');
    const actual = await scrypt(
      key.slice(KEY_PREFIX.length + id.length + 1),
      Buffer.from(record.salt, 'base64'),
      HASH_BYTES,
    );
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
    const principal: Principal = {
      keyId: record.id,
      name: record.name,
      role: record.role as Role,
      ...(record.agencies.length > 0 ? { agencies: record.agencies } : {}),
    };
    if (this.verified.size >= MAX_CACHED_KEYS) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(key, { principal, checkedAt: now });
    return principal;
  }
}

function visible(record: StoredApiKey): ApiKeyInfo {
  const { salt: _salt, hash: _hash, ...rest } = record;
  return rest as ApiKeyInfo;
}

/**
 * First start: creates the admin key, writes it to `<dataDir>/admin.key` (mode 0600) and returns it so the
 * caller can print it once. Later starts (any process, any mode) find an active admin key and return
 * `undefined`.
 */
export async function ensureAdminKey(
  keys: ApiKeyService,
  dataDir: string,
): Promise<{ key: string; file: string } | undefined> {
  const existing = await keys.list();
  if (existing.some((record) => record.role === 'admin' && !record.revokedAt)) return undefined;
  // Several API processes may start at once on an empty store: they all derive the same id from what
  // they see, so exactly one creates the key (the others get a conflict) and one file holds it.
  const generation = existing.filter((record) => record.role === 'admin').length;
  const created = await keys.createIfAbsent(firstStartAdminId(generation), {
    name: 'admin (first start)',
    role: 'admin',
    createdBy: 'system',
  });
  if (!created) return undefined;
  const { key } = created;
  const file = join(dataDir, 'admin.key');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { key, file };
}

/** The id of the first-start admin key when `generation` admin keys (all revoked) exist already. */
export function firstStartAdminId(generation: number): string {
  return `ad${generation.toString(16).padStart(10, '0')}`;
}
