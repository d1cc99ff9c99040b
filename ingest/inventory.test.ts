import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../core/model.js';
import { SourceInventory, SourceInventoryFile } from './inventory.js';

function event(agency: string, host: string | undefined, dataset?: string, peer?: string): SecurityEvent {
  return {
    '@timestamp': '2024-06-15T00:00:00.000Z',
    event: { id: 'x', ingested: '2024-06-15T00:00:00.000Z', original: 'x', ...(dataset ? { dataset } : {}) },
    agency: { id: agency },
    ...(host ? { host: { hostname: host } } : {}),
    ...(peer ? { log: { source: { address: peer } } } : {}),
  };
}

const T0 = Date.parse('2024-06-15T08:00:10Z');

describe('SourceInventory', () => {
  it('tracks every (agency, host, parser) with first/last seen, count and per-minute rate', () => {
    const inventory = new SourceInventory();
    inventory.observe(
      [event('so-tttt', 'FW01', 'fortinet.firewall'), event('so-tttt', 'fw01', 'fortinet.firewall')],
      T0,
    );
    inventory.observe([event('so-tttt', undefined, undefined, '10.93.2.9:514')], T0 + 1000);
    inventory.observe(
      Array.from({ length: 3 }, () => event('so-tttt', 'fw01', 'fortinet.firewall')),
      T0 + 60_000,
    );
    expect(inventory.entries()).toEqual([
      {
        agency: 'so-tttt',
        host: 'fw01',
        parser: 'fortinet.firewall',
        firstSeen: '2024-06-15T08:00:10.000Z',
        lastSeen: '2024-06-15T08:01:10.000Z',
        count: 5,
        ratePerMinute: 2,
      },
      {
        agency: 'so-tttt',
        host: '10.93.2.9',
        parser: 'generic',
        firstSeen: '2024-06-15T08:00:11.000Z',
        lastSeen: '2024-06-15T08:00:11.000Z',
        count: 1,
        ratePerMinute: 0,
      },
    ]);
    expect(inventory.silent(30_000, T0 + 61_000).map((entry) => entry.host)).toEqual(['10.93.2.9']);
  });

  it('merges snapshots and survives a restart through the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'siem-inventory-'));
    try {
      const file = new SourceInventoryFile(join(dir, 'data', 'sources.json'));
      expect(await file.load()).toEqual([]);
      const first = new SourceInventory();
      first.observe([event('vp-ubnd', 'dc01', 'windows.security')], T0);
      await file.save(first.entries());
      const second = new SourceInventory();
      second.observe([event('vp-ubnd', 'dc01', 'windows.security')], T0 + 5000);
      second.merge(await file.load());
      expect(second.entries()).toMatchObject([
        {
          host: 'dc01',
          count: 2,
          firstSeen: '2024-06-15T08:00:10.000Z',
          lastSeen: '2024-06-15T08:00:15.000Z',
        },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
