import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiKeyService } from '../../api/keys.js';
import { loadConfig } from '../../core/config.js';
import { deleteIndices, ELASTICSEARCH_URL, uniquePrefix } from '../../test/support/services.js';
import { openApiStores } from '../api-runtime.js';
import { createKey, formatKeys, KeysCommandError, listKeys, revokeKey } from './keys.js';

describe.each(['embedded', 'scale'] as const)('siem-lite keys (%s)', (mode) => {
  const dir = mkdtempSync(join(tmpdir(), 'siem-keys-'));
  const prefix = uniquePrefix('keys');
  const { config } = loadConfig({
    env: {
      SIEM_MODE: mode,
      SIEM_DATA_DIR: dir,
      SIEM_ELASTICSEARCH__URL: ELASTICSEARCH_URL,
      SIEM_ELASTICSEARCH__INDEX_PREFIX: prefix,
    },
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (mode === 'scale') await deleteIndices(prefix);
  });

  it('creates a key the API accepts, lists it without its text, revokes it and audits both', async () => {
    const { key, info } = await createKey(config, {
      name: 'analyst A',
      role: 'agency_analyst',
      agency: ['so-tttt'],
    });
    const stores = openApiStores(config);
    const service = new ApiKeyService(stores.keys);
    expect(await service.verify(key)).toMatchObject({ role: 'agency_analyst', agencies: ['so-tttt'] });
    const listed = await listKeys(config);
    expect(listed.map((k) => k.id)).toContain(info.id);
    expect(formatKeys(listed)).toContain(`${info.id}  agency_analyst  so-tttt`);
    expect(JSON.stringify(listed)).not.toContain(key.slice(16));
    await revokeKey(config, info.id);
    expect(await new ApiKeyService(stores.keys).verify(key)).toBeUndefined();
    await stores.audit.refresh();
    const audit = await stores.audit.list({ targetId: info.id });
    expect(audit.entries.map((e) => e.action)).toEqual(['key.revoke', 'key.create']);
    expect(audit.entries[0]!.actor).toMatch(/^cli:/);
    await stores.close();
  });

  it('refuses unknown roles and agencies and keys that break the role rules', async () => {
    await expect(createKey(config, { name: 'x', role: 'root' })).rejects.toThrow(KeysCommandError);
    await expect(createKey(config, { name: 'x', role: 'analyst', agency: ['atlantis'] })).rejects.toThrow(
      'no agency',
    );
    await expect(createKey(config, { name: 'x', role: 'ingest' })).rejects.toThrow('exactly one agency');
    await expect(revokeKey(config, '000000000000')).rejects.toThrow('no active key');
  });
});
