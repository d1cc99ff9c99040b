import { describe, expect, it } from 'vitest';
import { loadFixtures } from '../fixtures/fixtures.js';
import {
  BUNDLED_PACK,
  CompiledRuleSet,
  type DetectionRule,
  loadRuleSet,
  parseRuleText,
  ruleSetFromText,
} from '../index.js';
import { ECS_IDENTITY } from '../pipeline/pipeline.js';

/** The same rules with and without the prefilter must match the same events: the prefilter only skips work. */
function bothWays(rules: DetectionRule[], pipeline: ConstructorParameters<typeof CompiledRuleSet>[0]) {
  const on = new CompiledRuleSet(pipeline);
  const off = new CompiledRuleSet(pipeline, { prefilter: false });
  for (const rule of rules) {
    on.add(rule);
    off.add(rule);
  }
  return (event: unknown) => [
    on.match(event as never).map((m) => m.rule.id),
    off.match(event as never).map((m) => m.rule.id),
  ];
}

describe('matcher prefilter', () => {
  it('changes no result on the bundled pack over its fixtures', () => {
    const { rules, pipeline } = loadRuleSet({ packs: [BUNDLED_PACK] });
    const run = bothWays(
      rules.filter((r): r is DetectionRule => r.kind === 'detection'),
      pipeline,
    );
    let matched = 0;
    for (const event of loadFixtures().flatMap((c) => c.events)) {
      const [on, off] = run(event);
      expect(on).toEqual(off);
      matched += on!.length;
    }
    expect(matched).toBeGreaterThan(100);
  });

  it('keeps rules whose literals or keys are spelled differently in the event (case, numbers as text)', () => {
    const { problems, ruleSet } = ruleSetFromText(`title: Numbers and case
id: 11111111-1111-4111-8111-111111111111
logsource: {product: test}
detection:
  sel:
    code: 4625
    name|contains: PowerShell
  condition: sel
`);
    expect(problems).toEqual([]);
    expect(ruleSet.match({ code: '4625', name: 'x POWERSHELL y' } as never)).toHaveLength(1);
    expect(ruleSet.match({ code: 4625.0, name: ['a', 'powershell'] } as never)).toHaveLength(1);
    expect(ruleSet.match({ code: '4624', name: 'powershell' } as never)).toHaveLength(0);
    expect(ruleSet.match({ code: 4625, name: 'pwsh' } as never)).toHaveLength(0);
  });

  it('finds keywords in a text that lies inside another keyword field, final sigma included', () => {
    const { problems, ruleSet } = ruleSetFromText(
      `title: Keywords
id: 22222222-2222-4222-8222-222222222222
logsource: {product: test}
detection:
  keywords: ['abς', 'failed password']
  condition: keywords
`,
      { pipeline: ECS_IDENTITY },
    );
    expect(problems).toEqual([]);
    const event = (message: string, original: string) =>
      ({ message, event: { original: `host sshd[1]: ${original}` } }) as never;
    expect(ruleSet.match(event('Failed password for x', 'Failed password for x'))).toHaveLength(1);
    expect(ruleSet.match(event('Failed pass', 'Failed pass'))).toHaveLength(0);
    // 'ABΣ' lower-cases to 'abς' alone but to 'abσ' inside 'ABΣC': only the message holds the keyword.
    expect(ruleSet.match(event('ABΣ', 'ABΣC'))).toHaveLength(1);
    expect(ruleSet.match(event('ABΣC', 'ABΣC'))).toHaveLength(0);
  });

  it('scans a message that ends event.original once, with the results of scanning each', () => {
    const rule = (id: string, detection: string) => {
      const { rules, problems } = parseRuleText(
        `title: ${id}\nid: ${id}\nlogsource: {product: test}\ndetection:\n${detection}\n  condition: sel\n`,
        `${id}.yml`,
      );
      expect(problems).toEqual([]);
      return rules[0] as DetectionRule;
    };
    const keywords = rule('33333333-3333-4333-8333-333333333333', "  sel: ['failed password', 'gw1 kern']");
    const inMessage = rule(
      '44444444-4444-4444-8444-444444444444',
      "  sel:\n    message|contains: ['sudo', 'σ x']",
    );
    const run = bothWays([keywords, inMessage], ECS_IDENTITY);
    const matches = (message: unknown, original: string) => {
      const [on, off] = run({ message, event: { original } });
      expect(on).toEqual(off);
      return on;
    };
    const [keywordRule, messageRule] = [[keywords.id], [inMessage.id]];
    expect(matches('Failed password for x', 'gw2 sshd: Failed password for x')).toEqual(keywordRule);
    // In the header only: a keyword is (event.original is a keyword field), a message literal is not.
    expect(matches('x', 'gw1 kernel: x')).toEqual(keywordRule);
    expect(matches('x', 'sudo kernel: x')).toEqual([]);
    expect(matches('sudo x', 'h: sudo x')).toEqual(messageRule);
    expect(matches('sudo x', 'h: other')).toEqual(messageRule);
    expect(matches(['sudo', 'x'], 'h: sudo x')).toEqual(messageRule);
    // 'Σ' first lower-cases to 'σ', after a letter to 'ς': the message's lower case is not the original's end.
    expect(matches('Σ x', 'AΣ x')).toEqual(messageRule);
    expect(matches('Σ x', 'gw1 kernel: AΣ x')).toEqual([...keywordRule, ...messageRule]);
  });
});
