/**
 * The rules engine's entry point: load Sigma rule packs and match events against them.
 *
 *   folders of YAML ──load──▶ SigmaRule[] ──pipeline + compile──▶ RuleSet ──match(event)──▶ RuleMatch[]
 */
import { existsSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { loadRuleFiles, parseRuleText, type RuleProblem } from './load.js';
import type { DetectionRule } from './model.js';
import { ECS_IDENTITY, type Pipeline } from './pipeline/pipeline.js';
import { CompiledRuleSet, type RuleSet } from './rule-set.js';

export type { RuleProblem } from './load.js';
export { listRuleFiles, loadRuleFiles, parseRuleText } from './load.js';
export type * from './model.js';
export { ECS_IDENTITY, NO_PIPELINE, type Pipeline } from './pipeline/pipeline.js';
export { CompiledRuleSet, detectionExpr, type RuleInfo, type RuleMatch, type RuleSet } from './rule-set.js';

export interface LoadRuleSetOptions {
  /** Rule files or folders. */
  packs: string[];
  /** Field mapping; defaults to rule field names as written, keywords over `message`/`event.original`. */
  pipeline?: Pipeline;
}

export function loadRuleSet(options: LoadRuleSetOptions): { ruleSet: RuleSet; problems: RuleProblem[] } {
  const { rules, problems } = loadRuleFiles(options.packs);
  const ruleSet = new CompiledRuleSet(options.pipeline ?? ECS_IDENTITY);
  const linkBases = options.packs.map((pack) => sigmaHqRoot(resolve(pack)));
  for (const rule of rules) {
    if (rule.kind !== 'detection') continue;
    const problem = ruleSet.add(rule, linkOf(rule, linkBases));
    if (problem) problems.push(problem);
  }
  return { ruleSet, problems };
}

const SIGMAHQ_BLOB = 'https://github.com/SigmaHQ/sigma/blob/master/';

/**
 * SigmaHQ's rules carry the Detection Rule License, which asks for a link to each rule wherever alerts from
 * it are shown: a pack inside a SigmaHQ checkout (recognised by its licence file) links to the upstream file.
 */
function sigmaHqRoot(pack: string): string | undefined {
  let dir = pack;
  for (let i = 0; i < 4; i++) {
    if (existsSync(resolve(dir, 'LICENSE.Detection.Rules.md'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

function linkOf(rule: DetectionRule, bases: (string | undefined)[]): string | undefined {
  const file = resolve(rule.file);
  for (const base of bases) {
    if (base && file.startsWith(`${base}/`)) return SIGMAHQ_BLOB + relative(base, file);
  }
  return undefined;
}

/** A rule set from YAML text (one or more documents): for tests, the API's rule editor and `rules test`. */
export function ruleSetFromText(
  text: string,
  options: { file?: string; pipeline?: Pipeline } = {},
): { ruleSet: CompiledRuleSet; problems: RuleProblem[] } {
  const { rules, problems } = parseRuleText(text, options.file ?? '<text>');
  const ruleSet = new CompiledRuleSet(options.pipeline ?? ECS_IDENTITY);
  for (const rule of rules) {
    if (rule.kind !== 'detection') continue;
    const problem = ruleSet.add(rule);
    if (problem) problems.push(problem);
  }
  return { ruleSet, problems };
}
