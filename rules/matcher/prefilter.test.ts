import { describe, expect, it } from 'vitest';
import { loadFixtures } from '../fixtures/fixtures.js';
import { BUNDLED_PACK, CompiledRuleSet, type DetectionRule, loadRuleSet, ruleSetFromText } from '../index.js';
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
});
