import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRuleSet, ruleSetFromText } from '../index.js';

const PROCESS_CREATION = `title: Whoami
id: 11111111-1111-4111-8111-111111111111
logsource: {product: windows, category: process_creation}
detection:
  sel:
    Image|endswith: '\\whoami.exe'
    CommandLine|contains: '/all'
  condition: sel
`;

/** A Sysmon event in Winlogbeat's shape; `ecs` adds the ECS fields Winlogbeat derives. */
function sysmon(code: string, data: Record<string, unknown>, ecs: Record<string, unknown> = {}) {
  return {
    event: { code },
    winlog: { channel: 'Microsoft-Windows-Sysmon/Operational', event_data: data },
    ...ecs,
  };
}

describe('processing pipelines', () => {
  const { ruleSet } = ruleSetFromText(PROCESS_CREATION);
  const matches = (event: unknown) => ruleSet.match(event as never).length === 1;

  it('maps Windows field names to ECS and to winlog.event_data, either matching', () => {
    const data = { Image: 'C:\\Windows\\System32\\whoami.exe', CommandLine: 'whoami /all' };
    expect(matches(sysmon('1', data))).toBe(true);
    expect(
      matches(sysmon('1', {}, { process: { executable: data.Image, command_line: data.CommandLine } })),
    ).toBe(true);
  });

  it('selects events by logsource: process_creation is Sysmon 1 or Security 4688, not Sysmon 11', () => {
    const data = { Image: 'C:\\Windows\\System32\\whoami.exe', CommandLine: 'whoami /all' };
    expect(matches(sysmon('11', data))).toBe(false);
    expect(
      matches({
        event: { code: '4688' },
        winlog: { channel: 'Security', event_data: { NewProcessName: 'x', ...data } },
      }),
    ).toBe(true);
    expect(matches({ event: { code: '1' }, winlog: { channel: 'Security', event_data: data } })).toBe(false);
  });

  it('maps web server fields and keeps unmapped names as written', () => {
    const { ruleSet: web, problems } = ruleSetFromText(`title: Traversal
id: 22222222-2222-4222-8222-222222222222
logsource: {category: webserver}
detection:
  sel:
    cs-method: GET
    c-uri|contains: '../'
    custom.field: x
  condition: sel
`);
    expect(problems).toEqual([]);
    const event = {
      event: { category: ['web'] },
      http: { request: { method: 'GET' } },
      url: { original: '/a/../../etc/passwd' },
      custom: { field: 'x' },
    };
    expect(web.match(event as never)).toHaveLength(1);
    expect(web.match({ ...event, event: { category: ['network'] } } as never)).toHaveLength(0);
  });

  const dir = mkdtempSync(join(tmpdir(), 'pipelines-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads user pipelines from YAML: field mappings, logsources and placeholders without code', () => {
    writeFileSync(
      join(dir, 'custom.yml'),
      `name: custom-app
priority: 5
applies_to: [{product: acme}]
fields:
  AppUser: user.name
logsources:
  - match: {product: acme}
    detection: {sel: {observer.product: acme-portal}, condition: sel}
placeholders:
  Admins: [root, admin]
`,
    );
    writeFileSync(
      join(dir, 'rule.yml'),
      `title: Admin on portal
id: 33333333-3333-4333-8333-333333333333
logsource: {product: acme}
detection:
  sel:
    AppUser|expand: '%Admins%'
  condition: sel
`,
    );
    const { ruleSet: custom, problems } = loadRuleSet({
      packs: [join(dir, 'rule.yml')],
      pipelines: [join(dir, 'custom.yml')],
    });
    expect(problems).toEqual([]);
    expect(
      custom.match({ observer: { product: 'acme-portal' }, user: { name: 'admin' } } as never),
    ).toHaveLength(1);
    expect(
      custom.match({ observer: { product: 'acme-portal' }, user: { name: 'bob' } } as never),
    ).toHaveLength(0);
    expect(custom.match({ observer: { product: 'other' }, user: { name: 'root' } } as never)).toHaveLength(0);
  });

  it('an unresolved placeholder is a compile problem naming the rule', () => {
    const { problems } = ruleSetFromText(`title: Unknown placeholder
id: 44444444-4444-4444-8444-444444444444
logsource: {product: linux}
detection:
  sel: {user.name|expand: '%nobody_defined_this%'}
  condition: sel
`);
    expect(problems[0]?.message).toMatch(/cannot compile: unresolved %placeholder%/);
  });

  it('a bad pipeline file is a problem with its line, and the rules still load', () => {
    writeFileSync(join(dir, 'bad.yml'), 'name: bad\nfields:\n  Image: 42\n');
    writeFileSync(join(dir, 'whoami.yml'), PROCESS_CREATION);
    const { ruleSet: withBad, problems } = loadRuleSet({
      packs: [join(dir, 'whoami.yml')],
      pipelines: [join(dir, 'bad.yml')],
    });
    expect(problems).toEqual([
      expect.objectContaining({ line: 3, message: 'fields.Image must be a field name or a list of them' }),
    ]);
    expect(withBad.rules).toHaveLength(1);
  });
});

describe('Sigma filters', () => {
  const RULE = `title: Sudo to root
id: 55555555-5555-4555-8555-555555555555
name: sudo_root
logsource: {product: linux, service: sudo}
detection:
  sel: {user.effective.name: root}
  condition: sel
`;
  const FILTER = `title: Backup job may sudo
id: 66666666-6666-4666-8666-666666666666
logsource: {product: linux}
filter:
  rules: [sudo_root]
  backup: {user.name: backup}
  condition: not backup
`;
  const event = (user: string) => ({
    process: { name: 'sudo' },
    user: { name: user, effective: { name: 'root' } },
  });

  it('applies as rule and (filter condition), scoped by rule name', () => {
    const { ruleSet, problems } = ruleSetFromText(`${RULE}---\n${FILTER}`);
    expect(problems).toEqual([]);
    expect(ruleSet.match(event('alice') as never)).toHaveLength(1);
    expect(ruleSet.match(event('backup') as never)).toHaveLength(0);
  });

  it('applies to any rule whose logsource it covers, and not to others', () => {
    const any = FILTER.replace('rules: [sudo_root]', 'rules: any');
    expect(ruleSetFromText(`${RULE}---\n${any}`).ruleSet.match(event('backup') as never)).toHaveLength(0);
    const windowsOnly = any.replace('logsource: {product: linux}', 'logsource: {product: windows}');
    expect(
      ruleSetFromText(`${RULE}---\n${windowsOnly}`).ruleSet.match(event('backup') as never),
    ).toHaveLength(1);
  });
});
