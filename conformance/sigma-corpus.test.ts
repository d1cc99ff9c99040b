/**
 * Conformance over SigmaHQ's rule corpus (../shared/data/sigma/rules, 3,141 rules): every rule must load
 * and compile to the matcher; the refusals are printed with their reasons. `npm run conformance`.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadRuleSet } from '../rules/index.js';
import { SHARED_DATA } from './support/shared-data.js';

const CORPUS = `${SHARED_DATA}/sigma/rules`;

/** Measured on the corpus at SigmaHQ/sigma @ 8eaafff1f284: all 3,141 rules load and compile. */
const MIN_LOADED = 3141;

describe('SigmaHQ rule corpus', () => {
  it('has the shared data beside the project', () => {
    if (!existsSync(CORPUS)) {
      throw new Error(
        `${CORPUS} is absent: the conformance checks need the shared test data (../shared/data beside the ` +
          'repository, or SHARED_DATA_DIR pointing at it). CI always has it.',
      );
    }
  });

  it(`loads and compiles at least ${MIN_LOADED} rules, reporting every refusal`, () => {
    expect(existsSync(CORPUS), `${CORPUS} is absent`).toBe(true);
    const started = performance.now();
    const { ruleSet, problems } = loadRuleSet({ packs: [CORPUS] });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const reasons = new Map<string, number>();
    for (const problem of problems) {
      const reason = problem.message.replace(/'[^']*'/g, "'…'");
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    console.log(
      `Sigma corpus: ${ruleSet.rules.length} rules loaded and compiled, ${problems.length} refused (${seconds}s)`,
    );
    for (const [reason, count] of [...reasons].sort((a, b) => b[1] - a[1]))
      console.log(`  ${count} × ${reason}`);
    for (const problem of problems)
      console.log(`  ${problem.file}:${problem.line ?? '?'}: ${problem.message}`);
    expect(ruleSet.rules.length).toBeGreaterThanOrEqual(MIN_LOADED);
    // Every loaded rule keeps the attribution the Detection Rule License asks for.
    const withoutLink = ruleSet.rules.filter(
      (r) => !r.link?.startsWith('https://github.com/SigmaHQ/sigma/blob/'),
    );
    expect(withoutLink.map((r) => r.file)).toEqual([]);
  });
});
