import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../../core/model.js';
import { loadRuleSet } from '../../index.js';

const PACK = fileURLToPath(new URL('.', import.meta.url));

/** An ECS event as the sshd normaliser writes it for `Failed password for root from 203.0.113.5 port 4711 ssh2`. */
function sshEvent(outcome: 'failure' | 'success'): SecurityEvent {
  return {
    '@timestamp': '2026-11-26T08:00:00.000Z',
    message: `${outcome === 'failure' ? 'Failed' : 'Accepted'} password for root from 203.0.113.5 port 4711 ssh2`,
    event: {
      id: 'e1',
      ingested: '2026-11-26T08:00:01.000Z',
      original:
        '<38>Nov 26 08:00:00 web01 sshd[812]: Failed password for root from 203.0.113.5 port 4711 ssh2',
      kind: 'event',
      category: ['authentication'],
      type: ['start'],
      action: 'ssh_login',
      outcome,
      dataset: 'system.auth',
      module: 'system',
    },
    process: { name: 'sshd', pid: 812 },
    source: { ip: '203.0.113.5', port: 4711 },
    user: { name: 'root' },
    host: { hostname: 'web01' },
    agency: { id: 'so-tttt' },
  };
}

describe('the bundled Hau Giang pack', () => {
  const { ruleSet, problems } = loadRuleSet({ packs: [PACK] });

  it('loads without problems', () => {
    expect(problems).toEqual([]);
    expect(ruleSet.rules.length).toBeGreaterThanOrEqual(1);
  });

  it('SSH Failed Password fires on a failed sshd login and not on an accepted one', () => {
    const hits = ruleSet.match(sshEvent('failure')).map((m) => m.rule);
    expect(hits.map((r) => r.title)).toContain('SSH Failed Password');
    const rule = hits.find((r) => r.title === 'SSH Failed Password')!;
    expect(rule).toMatchObject({
      id: '8777fb77-a27d-45a0-9f0a-2a8dc9f15429',
      level: 'medium',
      author: expect.stringContaining('siem-lite'),
    });
    expect(rule.tags).toEqual(expect.arrayContaining(['attack.credential_access', 'attack.t1110']));
    expect(ruleSet.match(sshEvent('success')).map((m) => m.rule.title)).not.toContain('SSH Failed Password');
  });
});
