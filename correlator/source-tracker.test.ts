import { describe, expect, it } from 'vitest';
import { createLogger } from '../core/logger.js';
import type { RawRecord, SecurityEvent } from '../core/model.js';
import type { SourceInventory, SourceObservation } from '../core/ports.js';
import { SourceTracker } from './source-tracker.js';

/** An inventory that keeps what it is given, and refuses the first `failures` writes. */
function recordingInventory(failures = 0) {
  const written: SourceObservation[][] = [];
  const inventory: SourceInventory = {
    init: async () => {},
    record: async (observations) => {
      if (failures-- > 0) throw new Error('store away');
      written.push(observations);
    },
    list: async () => [],
    close: async () => {},
  };
  return { inventory, written };
}

const record = (listener: string, peer: string, receivedAt: number): RawRecord => ({
  text: 'x',
  receivedAt,
  transport: 'udp',
  peer,
  listener,
  seq: receivedAt,
});
const event = (agency: string, hostname: string | undefined, dataset?: string, failed = false) =>
  ({
    '@timestamp': '2026-11-26T00:00:00.000Z',
    event: { id: 'e', ...(dataset ? { dataset } : {}) },
    agency: { id: agency },
    ...(hostname !== undefined ? { host: { hostname } } : {}),
    ...(failed ? { tags: ['_parse_failure'] } : {}),
  }) as unknown as SecurityEvent;

const byKey = (observations: SourceObservation[]) =>
  Object.fromEntries(observations.map((o) => [`${o.listener}|${o.agency}|${o.host}`, o]));

describe('SourceTracker', () => {
  it('counts each (listener, agency, host) apart, the peer standing in for a missing host name', async () => {
    const { inventory, written } = recordingInventory();
    const tracker = new SourceTracker(inventory, createLogger({ level: 'silent' }), 60_000);
    tracker.observe(
      [
        record('udp', '10.0.0.1:514', 2000),
        record('udp', '10.0.0.1:514', 1000),
        record('tcp', '10.0.0.1:514', 3000),
        record('udp', '10.0.0.2:514', 4000),
        record('udp', '10.0.0.3:514', 5000),
      ],
      [
        event('a', 'gw1', 'iptables.log'),
        event('a', 'gw1', 'nginx.access'),
        event('a', 'gw1', 'iptables.log'),
        event('b', 'gw1', undefined, true),
        event('a', ''),
      ],
    );
    await tracker.close();
    expect(written).toHaveLength(1);
    const seen = byKey(written[0]!);
    expect(Object.keys(seen).sort()).toEqual(['tcp|a|gw1', 'udp|a|10.0.0.3', 'udp|a|gw1', 'udp|b|gw1']);
    expect(seen['udp|a|gw1']).toMatchObject({
      events: 2,
      parseFailures: 0,
      parsers: ['iptables.log', 'nginx.access'],
      firstSeen: new Date(1000).toISOString(),
      lastSeen: new Date(2000).toISOString(),
    });
    expect(seen['udp|b|gw1']).toMatchObject({ events: 1, parseFailures: 1, parsers: [] });
  });

  it('keeps the counts of a failed write and adds them to the next', async () => {
    const { inventory, written } = recordingInventory(1);
    const tracker = new SourceTracker(inventory, createLogger({ level: 'silent' }), 60_000);
    tracker.observe([record('udp', 'p', 1000)], [event('a', 'h', 'd1')]);
    await tracker.flush();
    expect(written).toHaveLength(0);
    tracker.observe(
      [record('udp', 'p', 500), record('udp', 'p', 900)],
      [event('a', 'h', 'd2'), event('a', 'k')],
    );
    await tracker.close();
    expect(written).toHaveLength(1);
    const seen = byKey(written[0]!);
    expect(seen['udp|a|h']).toMatchObject({
      events: 2,
      parsers: ['d1', 'd2'],
      firstSeen: new Date(500).toISOString(),
      lastSeen: new Date(1000).toISOString(),
    });
    expect(seen['udp|a|k']).toMatchObject({ events: 1 });
  });
});
