import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../../core/model.js';
import { firedRules, loadFixtures, resolveRuleRef } from '../../fixtures/fixtures.js';
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
  const { ruleSet, problems, rules } = loadRuleSet({ packs: [PACK] });

  it('loads without problems, every rule ATT&CK-tagged, with author and description', () => {
    expect(problems).toEqual([]);
    expect(ruleSet.rules.length + ruleSet.correlations.length).toBe(
      rules.filter((r) => r.kind !== 'filter').length,
    );
    for (const rule of rules) {
      if (rule.kind === 'filter') continue;
      expect(
        rule.tags.some((t) => t.startsWith('attack.')),
        rule.title,
      ).toBe(true);
      expect(rule.author, rule.title).toBeTruthy();
      expect(rule.description, rule.title).toBeTruthy();
    }
  });

  it('SSH Failed Password fires on a failed sshd login and not on an accepted one', () => {
    const hits = ruleSet.match(sshEvent('failure')).map((m) => m.rule);
    const rule = hits.find((r) => r.title === 'SSH Failed Password')!;
    expect(rule).toMatchObject({
      id: '8777fb77-a27d-45a0-9f0a-2a8dc9f15429',
      level: 'medium',
      author: expect.stringContaining('siem-lite'),
    });
    // A single failure only feeds the brute-force and spraying correlations: no incident of its own.
    expect(rule.generate).toBe(false);
    expect(rule.tags).toEqual(expect.arrayContaining(['attack.credential_access', 'attack.t1110']));
    expect(ruleSet.match(sshEvent('success')).map((m) => m.rule.title)).not.toContain('SSH Failed Password');
  });

  const cases = loadFixtures();

  it('has a fixture that fires and one that must not for every rule', () => {
    const covered = new Map<string, Set<string>>();
    for (const c of cases) {
      const id = resolveRuleRef(ruleSet, c.rule);
      expect(id, `fixture names unknown rule ${c.rule}`).toBeDefined();
      if (!covered.has(id!)) covered.set(id!, new Set());
      covered.get(id!)!.add(c.expect);
    }
    // Rules that only feed correlations are exercised through them.
    const feeders = new Set(ruleSet.rules.filter((r) => r.generate === false).map((r) => r.id));
    for (const rule of [...ruleSet.rules, ...ruleSet.correlations.map((c) => c.info)]) {
      if (feeders.has(rule.id)) continue;
      expect([...(covered.get(rule.id) ?? [])].sort(), rule.title).toEqual(['fires', 'quiet']);
    }
  });

  for (const c of cases) {
    it(`${c.rule}: ${c.expect === 'fires' ? 'fires on' : 'stays quiet on'} ${c.name}`, () => {
      const id = resolveRuleRef(ruleSet, c.rule)!;
      expect(firedRules(ruleSet, c.events).has(id)).toBe(c.expect === 'fires');
    });
  }
});
