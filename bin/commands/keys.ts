/**
 * `siem-lite keys create|list|revoke`: API keys from the command line, in the same store the API uses
 * (so a key created here works at once on every API process, and a revoked one stops within seconds).
 */
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { type ApiKeyInfo, ApiKeyService, KeyPolicyError, ROLES, type Role } from '../../api/keys.js';
import type { Config } from '../../core/config.js';
import { openApiStores } from '../api-runtime.js';
import { loadAgencies } from '../runtime.js';

export class KeysCommandError extends Error {
  override readonly name = 'KeysCommandError';
}

type Audit = (action: string, key: ApiKeyInfo, before?: ApiKeyInfo) => Promise<void>;

async function withKeys<T>(
  config: Config,
  use: (keys: ApiKeyService, audit: Audit) => Promise<T>,
): Promise<T> {
  const stores = openApiStores(config);
  try {
    await stores.keys.init();
    await stores.audit.init();
    // Changes from the command line are audited like the API's, with the operator's login as actor.
    const audit: Audit = (action, key, before) =>
      stores.audit.append([
        {
          id: randomUUID(),
          at: new Date().toISOString(),
          actor: `cli:${userInfo().username}`,
          action,
          targetType: 'api_key',
          targetId: key.id,
          ...(before ? { before } : {}),
          after: key,
        },
      ]);
    return await use(new ApiKeyService(stores.keys), audit);
  } finally {
    await stores.close();
  }
}

export async function createKey(
  config: Config,
  options: { name: string; role: string; agency?: string[] },
): Promise<{ key: string; info: ApiKeyInfo }> {
  if (!(ROLES as readonly string[]).includes(options.role)) {
    throw new KeysCommandError(`unknown role ${options.role}; one of ${ROLES.join(', ')}`);
  }
  const agencies = options.agency ?? [];
  const directory = loadAgencies(config);
  const unknown = agencies.filter((agency) => !directory.get(agency));
  if (unknown.length > 0)
    throw new KeysCommandError(`no agency ${unknown.join(', ')} in ${config.agencies_file}`);
  return withKeys(config, async (keys, audit) => {
    let created: { key: string; info: ApiKeyInfo };
    try {
      created = await keys.create({
        name: options.name,
        role: options.role as Role,
        agencies,
        createdBy: 'cli',
      });
    } catch (error) {
      if (error instanceof KeyPolicyError) throw new KeysCommandError(error.message);
      throw error;
    }
    await audit('key.create', created.info);
    return created;
  });
}

export function listKeys(config: Config): Promise<ApiKeyInfo[]> {
  return withKeys(config, (keys) => keys.list());
}

export async function revokeKey(config: Config, id: string): Promise<ApiKeyInfo> {
  return withKeys(config, async (keys, audit) => {
    const before = await keys.get(id);
    const revoked = await keys.revoke(id);
    if (!revoked) throw new KeysCommandError(`no active key ${id}`);
    await audit('key.revoke', revoked, before);
    return revoked;
  });
}

export function formatKeys(keys: ApiKeyInfo[]): string {
  const rows = keys.map((key) => [
    key.id,
    key.role,
    key.agencies.join(',') || '(province)',
    key.revokedAt ? `revoked ${key.revokedAt}` : 'active',
    key.name,
  ]);
  const header = ['ID', 'ROLE', 'AGENCIES', 'STATE', 'NAME'];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
