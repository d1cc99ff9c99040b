import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function cli(args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bin/main.ts', ...args], {
      cwd: ROOT,
    });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, stdout: failed.stdout };
  }
}

describe('siem-lite rules (the CLI)', () => {
  it('checks the bundled pack: a summary line, exit 0', async () => {
    const { code, stdout } = await cli(['rules', 'check', 'rules/packs/hau-giang', '--json']);
    expect(code).toBe(0);
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!).summary;
    expect(summary.errors).toBe(0);
    expect(summary.loaded).toBeGreaterThan(10);
  });

  it('reports a broken rule with its line and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-cli-'));
    writeFileSync(
      join(dir, 'bad.yml'),
      'title: Broken\nid: 6a1f5c3e-0000-4000-8000-000000000001\nlogsource: {product: linux}\ndetection:\n  selection:\n    a|nosuchmodifier: x\n  condition: selection\n',
    );
    const { code, stdout } = await cli(['rules', 'check', dir]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/bad\.yml:6:\d+: .*nosuchmodifier/);
  });

  it('tests raw sshd lines through the real normaliser: each failure matches, the tenth fires the brute force', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-cli-'));
    const events = join(dir, 'auth.log');
    writeFileSync(
      events,
      Array.from(
        { length: 10 },
        (_, i) =>
          `<38>Nov 26 10:00:0${i} bastion sshd[811]: Failed password for root from 203.0.113.5 port 4${i} ssh2`,
      ).join('\n'),
    );
    const { code, stdout } = await cli(['rules', 'test', 'rules/packs/hau-giang', events, '--json']);
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.at(-1).summary).toMatchObject({ events: 10, errors: 0 });
    const correlation = lines.filter((line) => line.correlation);
    expect(correlation).toEqual([expect.objectContaining({ title: 'SSH Brute Force', event: 9 })]);
  });
});
