import { describe, expect, it } from 'vitest';
import {
  type CorrelationHit,
  evaluateCorrelations,
  percentile,
  type RuleHit,
  ruleSetFromText,
} from '../index.js';

const FAILED = `title: Failed login
id: 11111111-1111-4111-8111-111111111111
name: failed_login
logsource: {product: linux, service: sshd}
detection:
  sel: {event.outcome: failure}
  condition: sel
---
title: Accepted login
id: 22222222-2222-4222-8222-222222222222
name: accepted_login
logsource: {product: linux, service: sshd}
detection:
  sel: {event.outcome: success}
  condition: sel
`;

function correlationSet(correlations: string) {
  const { ruleSet, problems } = ruleSetFromText(`${FAILED}---\n${correlations}`);
  expect(problems).toEqual([]);
  return ruleSet;
}

/** sshd events at the given seconds: [seconds, outcome, source ip, user]. */
function run(
  correlations: string,
  events: [number, 'failure' | 'success', string, string?][],
): CorrelationHit<number>[] {
  const ruleSet = correlationSet(correlations);
  const hits: RuleHit<number>[] = [];
  events.forEach(([seconds, outcome, ip, user], index) => {
    const event = {
      event: { outcome },
      process: { name: 'sshd' },
      source: { ip },
      ...(user ? { user: { name: user } } : {}),
    };
    for (const match of ruleSet.match(event as never)) {
      hits.push({ ruleId: match.rule.id, event, time: seconds * 1000, ref: index });
    }
  });
  return evaluateCorrelations(ruleSet.correlations, hits);
}

const BRUTE_FORCE = `title: Brute force
id: 33333333-3333-4333-8333-333333333333
name: brute_force
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [source.ip]
  timespan: 10m
  condition: {gte: 3}
level: high
`;

describe('correlation reference evaluator', () => {
  it('event_count windows are inclusive at the boundary: hits at 0, 300 and 600 s fire within 10m', () => {
    const fired = run(BRUTE_FORCE, [
      [0, 'failure', '10.0.0.1'],
      [300, 'failure', '10.0.0.1'],
      [600, 'failure', '10.0.0.1'],
    ]);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({
      groupBy: { 'source.ip': '10.0.0.1' },
      value: 3,
      completedBy: 2,
      refs: [0, 1, 2],
    });
    expect(fired[0]!.time).toBe(600_000);
  });

  it('one millisecond past the window does not fire; groups are separate; firing resets the group', () => {
    expect(
      run(BRUTE_FORCE, [
        [0, 'failure', '10.0.0.1'],
        [300, 'failure', '10.0.0.1'],
        [600.001, 'failure', '10.0.0.1'],
      ]),
    ).toHaveLength(0);
    expect(
      run(BRUTE_FORCE, [
        [0, 'failure', '10.0.0.1'],
        [1, 'failure', '10.0.0.2'],
        [2, 'failure', '10.0.0.1'],
      ]),
    ).toHaveLength(0);
    const fired = run(
      BRUTE_FORCE,
      Array.from({ length: 7 }, (_, i) => [i, 'failure', '10.0.0.1'] as [number, 'failure', string]),
    );
    expect(fired.map((f) => f.completedBy)).toEqual([2, 5]);
  });

  it('value_count counts distinct values; events lacking the field are not counted', () => {
    const spraying = `title: Password spraying
id: 44444444-4444-4444-8444-444444444444
correlation:
  type: value_count
  rules: [failed_login]
  group-by: [source.ip]
  timespan: 5m
  condition: {gte: 3, field: user.name}
`;
    expect(
      run(spraying, [
        [0, 'failure', '10.0.0.9', 'alice'],
        [1, 'failure', '10.0.0.9', 'alice'],
        [2, 'failure', '10.0.0.9'],
        [3, 'failure', '10.0.0.9', 'bob'],
      ]),
    ).toHaveLength(0);
    const fired = run(spraying, [
      [0, 'failure', '10.0.0.9', 'alice'],
      [1, 'failure', '10.0.0.9', 'bob'],
      [2, 'failure', '10.0.0.9', 'carol'],
    ]);
    expect(fired[0]).toMatchObject({ value: 3, completedBy: 2 });
  });

  it('temporal_ordered needs the order; temporal does not', () => {
    const ordered = `title: Success after failures
id: 55555555-5555-4555-8555-555555555555
correlation:
  type: temporal_ordered
  rules: [failed_login, accepted_login]
  group-by: [source.ip]
  timespan: 1h
`;
    expect(
      run(ordered, [
        [0, 'failure', '10.0.0.3'],
        [10, 'success', '10.0.0.3'],
      ]),
    ).toHaveLength(1);
    expect(
      run(ordered, [
        [0, 'success', '10.0.0.3'],
        [10, 'failure', '10.0.0.3'],
      ]),
    ).toHaveLength(0);
    const unordered = ordered.replace('temporal_ordered', 'temporal');
    expect(
      run(unordered, [
        [0, 'success', '10.0.0.3'],
        [10, 'failure', '10.0.0.3'],
      ]),
    ).toHaveLength(1);
  });

  it('chains a correlation on a correlation, with group values carried', () => {
    const chained = `${BRUTE_FORCE}---
title: Repeated brute force
id: 66666666-6666-4666-8666-666666666666
correlation:
  type: event_count
  rules: [brute_force]
  group-by: [source.ip]
  timespan: 1h
  condition: {gte: 2}
`;
    const events = Array.from(
      { length: 6 },
      (_, i) => [i * 10, 'failure', '10.0.0.4'] as [number, 'failure', string],
    );
    const fired = run(chained, events);
    expect(fired.map((f) => f.rule.title)).toEqual(['Brute force', 'Brute force', 'Repeated brute force']);
    expect(fired[2]).toMatchObject({ groupBy: { 'source.ip': '10.0.0.4' }, refs: [0, 1, 2, 3, 4, 5] });
  });

  it('aliases read one group value from differently named fields per rule', () => {
    const aliased = `title: Same host
id: 77777777-7777-4777-8777-777777777777
correlation:
  type: temporal
  rules: [failed_login, accepted_login]
  group-by: [ip]
  aliases:
    ip:
      failed_login: source.ip
      accepted_login: destination.ip
  timespan: 1m
`;
    const ruleSet = correlationSet(aliased);
    const failed = { event: { outcome: 'failure' }, process: { name: 'sshd' }, source: { ip: '10.9.9.9' } };
    const accepted = {
      event: { outcome: 'success' },
      process: { name: 'sshd' },
      destination: { ip: '10.9.9.9' },
    };
    const fired = evaluateCorrelations(ruleSet.correlations, [
      { ruleId: '11111111-1111-4111-8111-111111111111', event: failed, time: 0, ref: 0 },
      { ruleId: '22222222-2222-4222-8222-222222222222', event: accepted, time: 5000, ref: 1 },
    ]);
    expect(fired).toHaveLength(1);
    expect(fired[0]!.groupBy).toEqual({ ip: '10.9.9.9' });
  });

  it('metrics: value_sum, value_avg, value_percentile, value_median', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10, 20, 30], 90)).toBe(28);
    const metric = (type: string, condition: string) => `title: Bytes
id: 88888888-8888-4888-8888-888888888888
correlation:
  type: ${type}
  rules: [failed_login]
  group-by: [source.ip]
  timespan: 1h
  condition: {${condition}, field: source.bytes}
`;
    const bytes = (values: number[]) =>
      values.map((b, i) => ({
        ruleId: '11111111-1111-4111-8111-111111111111',
        event: { source: { ip: '1.1.1.1', bytes: b } },
        time: i,
        ref: i,
      }));
    const evaluate = (type: string, condition: string, values: number[]) =>
      evaluateCorrelations(correlationSet(metric(type, condition)).correlations, bytes(values));
    expect(evaluate('value_sum', 'gte: 100', [40, 50, 10])[0]?.value).toBe(100);
    expect(evaluate('value_sum', 'gte: 100', [40, 50])).toHaveLength(0);
    expect(evaluate('value_avg', 'gt: 20', [10, 40])[0]?.value).toBe(25);
    expect(evaluate('value_median', 'gte: 30', [10, 30, 50])[0]?.value).toBe(30);
    expect(evaluate('value_percentile', 'gte: 48, percentile: 95', [10, 30, 50])[0]?.value).toBe(48);
  });

  it('marks rules that only feed correlations (generate: false, the default)', () => {
    const ruleSet = correlationSet(BRUTE_FORCE);
    const byName = Object.fromEntries(ruleSet.rules.map((r) => [r.title, r.generate]));
    expect(byName).toEqual({ 'Failed login': false, 'Accepted login': undefined });
    const generating = correlationSet(
      BRUTE_FORCE.replace('timespan: 10m', 'timespan: 10m\n  generate: true'),
    );
    expect(generating.rules.find((r) => r.title === 'Failed login')!.generate).toBeUndefined();
  });

  it('reports unknown references and cycles as problems', () => {
    const { problems } = ruleSetFromText(`${FAILED}---
${BRUTE_FORCE.replace('[failed_login]', '[no_such_rule]')}---
title: A
id: 99999999-9999-4999-8999-999999999999
name: a
correlation: {type: event_count, rules: [b], timespan: 1m, condition: {gte: 1}}
---
title: B
id: aaaaaaaa-9999-4999-8999-999999999999
name: b
correlation: {type: event_count, rules: [a], timespan: 1m, condition: {gte: 1}}
`);
    expect(problems.map((p) => p.message)).toEqual(
      expect.arrayContaining([
        "correlation refers to rule 'no_such_rule', which is not loaded",
        'correlation references itself through a cycle',
      ]),
    );
  });
});
