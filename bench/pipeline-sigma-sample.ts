/**
 * The issue 6 benchmark's rule load: the bundled pack plus N SigmaHQ detection rules
 * (../shared/data/sigma/rules), chosen by a fixed hash order so every run and every benchmark takes the
 * same ones. The chosen files are copied into one folder, a pack like any other (`rules.packs` in the
 * config, or `loadRuleSet({ packs })`). Rules that do not load are skipped, so N is the count that loads.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SHARED_DATA } from '../conformance/support/shared-data.js';
import { listRuleFiles, parseRuleText } from '../rules/index.js';

export const SIGMA_RULES = join(SHARED_DATA, 'sigma/rules');

/** Copies `count` loadable SigmaHQ detection rules into `dir` (created); returns the folder. */
export function sigmaSamplePack(dir: string, count: number): string {
  mkdirSync(dir, { recursive: true });
  const files = listRuleFiles([SIGMA_RULES])
    .map((file) => ({ file, key: createHash('md5').update(relative(SIGMA_RULES, file)).digest('hex') }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  let taken = 0;
  for (const { file, key } of files) {
    if (taken >= count) break;
    const parsed = parseRuleText(readFileSync(file, 'utf8'), file);
    if (parsed.problems.length > 0 || parsed.rules.length !== 1 || parsed.rules[0]!.kind !== 'detection')
      continue;
    copyFileSync(file, join(dir, `${key}.yml`));
    taken++;
  }
  return dir;
}
