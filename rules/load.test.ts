import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRuleSet, parseRuleText } from './index.js';

const GOOD = `title: Good
id: 11111111-1111-4111-8111-111111111111
logsource: {product: linux}
detection:
  sel:
    process.name: sshd
  condition: sel
level: low
`;

describe('loading rule packs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rules-load-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a folder, reports each bad rule with file, line and reason, and keeps the rest', () => {
    mkdirSync(join(dir, 'pack', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'pack', 'good.yml'), GOOD);
    writeFileSync(
      join(dir, 'pack', 'sub', 'bad-modifier.yaml'),
      `title: Bad modifier
id: 22222222-2222-4222-8222-222222222222
logsource: {product: windows}
detection:
  sel:
    Image|endswith: '\\\\cmd.exe'
    CommandLine|contians: whoami
  condition: sel
`,
    );
    writeFileSync(join(dir, 'pack', 'broken.yml'), 'title: [unclosed\n');
    writeFileSync(join(dir, 'pack', 'notes.txt'), 'not a rule');
    const { ruleSet, problems } = loadRuleSet({ packs: [join(dir, 'pack')] });
    expect(ruleSet.rules.map((r) => r.title)).toEqual(['Good']);
    expect(problems).toHaveLength(2);
    const modifier = problems.find((p) => p.file.endsWith('bad-modifier.yaml'))!;
    expect(modifier).toMatchObject({ line: 7, column: 5, ruleId: '22222222-2222-4222-8222-222222222222' });
    expect(modifier.message).toMatch(/unknown modifier 'contians'/);
    const yaml = problems.find((p) => p.file.endsWith('broken.yml'))!;
    expect(yaml.message).toMatch(/^YAML:/);
    expect(yaml.line).toBeGreaterThanOrEqual(1);
  });

  it('loads every document of a multi-document file, locating errors in later documents', () => {
    const text = `${GOOD}---
title: Second
id: 33333333-3333-4333-8333-333333333333
logsource: {product: linux}
detection:
  sel:
    process.name: sudo
  condition: sel and missing
---
title: Third
id: 44444444-4444-4444-8444-444444444444
logsource: {product: linux}
detection:
  sel: [keyword]
  condition: sel
`;
    const { rules, problems } = parseRuleText(text, 'multi.yml');
    expect(rules.map((r) => r.title)).toEqual(['Good', 'Third']);
    expect(problems).toEqual([
      {
        file: 'multi.yml',
        line: 16,
        column: 3,
        ruleId: '33333333-3333-4333-8333-333333333333',
        message: "condition refers to 'missing', which is not a selection",
      },
    ]);
  });

  it('refuses duplicate ids, keeping the first', () => {
    writeFileSync(join(dir, 'a.yml'), GOOD);
    writeFileSync(join(dir, 'b.yml'), GOOD.replace('Good', 'Copy'));
    const { ruleSet, problems } = loadRuleSet({ packs: [join(dir, 'a.yml'), join(dir, 'b.yml')] });
    expect(ruleSet.rules.map((r) => r.title)).toEqual(['Good']);
    expect(problems[0]!.message).toMatch(/duplicate rule id 11111111-.* \(already defined in .*a\.yml:1\)/);
  });

  it('validates metadata: title, uuid id, level, logsource, duplicate keys', () => {
    const cases: [string, RegExp][] = [
      [GOOD.replace('title: Good\n', ''), /title is required/],
      [GOOD.replace('11111111-1111-4111-8111-111111111111', 'not-a-uuid'), /id must be a UUID/],
      [GOOD.replace('level: low', 'level: severe'), /level must be one of/],
      [GOOD.replace('logsource: {product: linux}\n', ''), /logsource is required/],
      [GOOD.replace('level: low', 'level: low\nlevel: high'), /YAML: Map keys must be unique/],
      ['title: x\nfoo: bar\n', /not a Sigma rule/],
    ];
    for (const [text, message] of cases) {
      const { rules, problems } = parseRuleText(text, 't.yml');
      expect(rules).toHaveLength(0);
      expect(problems[0]?.message).toMatch(message);
    }
  });

  it('reports a pack path that does not exist instead of throwing', () => {
    const { ruleSet, problems } = loadRuleSet({ packs: [join(dir, 'nope')] });
    expect(ruleSet.rules).toHaveLength(0);
    expect(problems[0]!.message).toMatch(/ENOENT/);
  });

  it('refuses obsolete aggregations with the line of the condition', () => {
    const text = GOOD.replace('condition: sel', 'condition: sel | count() by source.ip > 10');
    const { problems } = parseRuleText(text, 'agg.yml');
    expect(problems[0]).toMatchObject({ line: 7 });
    expect(problems[0]!.message).toMatch(/correlation rule/);
  });
});
