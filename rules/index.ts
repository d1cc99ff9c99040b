/**
 * The rules engine's entry point: load Sigma rule packs and match events against them.
 *
 *   folders of YAML ──load──▶ SigmaRule[] ──pipeline + filters + compile──▶ RuleSet ──match(event)──▶ RuleMatch[]
 *                                          └─correlations──▶ CompiledCorrelation[] ──CorrelationEvaluator──▶ hits
 */
import { existsSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { compileCorrelations } from './correlation/compile.js';
import { loadRuleFiles, parseRuleText, type RuleProblem } from './load.js';
import type { CorrelationRule, DetectionRule, FilterRule, SigmaRule } from './model.js';
import { BUNDLED_PIPELINES, loadPipelineFiles } from './pipeline/load-pipelines.js';
import { type Pipeline, PipelineSet } from './pipeline/pipeline.js';
import { CompiledRuleSet } from './rule-set.js';

export {
  type BackendOptions,
  compileToElasticsearch,
  exprToQuery,
} from './backends/elasticsearch.js';
export { compileToSql, exprToSql, registerSigmaSqlFunctions, type SqlQuery } from './backends/sql.js';
export {
  type CompiledCorrelation,
  compileCorrelations,
  conditionHolds,
  type FieldReader,
} from './correlation/compile.js';
export {
  CorrelationEvaluator,
  type CorrelationHit,
  evaluateCorrelations,
  nestGroupValues,
  percentile,
  type RuleHit,
} from './correlation/evaluate.js';
export type { RuleProblem } from './load.js';
export { listRuleFiles, loadRuleFiles, parseRuleText } from './load.js';
export { expandDottedKeys } from './matcher/event-view.js';
export type * from './model.js';
export { BUNDLED_PIPELINES, loadPipelineFiles } from './pipeline/load-pipelines.js';
export { ECS_IDENTITY, NO_PIPELINE, type Pipeline, PipelineSet } from './pipeline/pipeline.js';
export {
  CompiledRuleSet,
  detectionExpr,
  filterApplies,
  type RuleInfo,
  type RuleMatch,
  type RuleSet,
} from './rule-set.js';

/** The bundled rule pack for Hậu Giang province. */
export const BUNDLED_PACK = resolve(dirname(BUNDLED_PIPELINES), 'packs', 'hau-giang');

export interface LoadRuleSetOptions {
  /** Rule files or folders (detection rules, correlation rules and filters). */
  packs: string[];
  /** Extra pipeline files or folders, used with the bundled ones (rules/pipelines/). */
  pipelines?: string[];
  /** Use exactly this pipeline instead (e.g. NO_PIPELINE for flat events as written). */
  pipeline?: Pipeline;
}

let bundled: { pipeline: PipelineSet; problems: RuleProblem[] } | undefined;

/** Builds the default pipeline: the bundled pipeline files plus the user's. */
export function loadPipeline(extra: string[] = []): { pipeline: PipelineSet; problems: RuleProblem[] } {
  if (extra.length === 0 && bundled) return { pipeline: bundled.pipeline, problems: [...bundled.problems] };
  const { definitions, problems } = loadPipelineFiles([BUNDLED_PIPELINES, ...extra]);
  const loaded = { pipeline: new PipelineSet(definitions), problems };
  if (extra.length === 0) bundled = loaded;
  return { pipeline: loaded.pipeline, problems: [...problems] };
}

export interface LoadedRuleSet {
  ruleSet: CompiledRuleSet;
  problems: RuleProblem[];
  /** Every rule parsed (detection, correlation, filter), before compilation. */
  rules: SigmaRule[];
  /** The pipeline the rules were compiled with (the backends take it too). */
  pipeline: Pipeline;
  /** How many rule files were read. */
  files: number;
}

export function loadRuleSet(options: LoadRuleSetOptions): LoadedRuleSet {
  const { rules, problems, files, links } = loadRulePacks(options.packs);
  let pipeline = options.pipeline;
  if (!pipeline) {
    const loaded = loadPipeline(options.pipelines);
    pipeline = loaded.pipeline;
    problems.push(...loaded.problems);
  }
  const ruleSet = buildRuleSet(rules, pipeline, problems, (rule) => links.get(rule.id));
  return { ruleSet, problems, rules, pipeline, files };
}

/**
 * The packs' rules parsed and not compiled, with the upstream link of each SigmaHQ-derived rule (by id),
 * for those that compile a set of their own from them (the API's rule catalog, a worker overlaying stored
 * rules): compiling the packs costs ~40 MB at 1,000 rules (the matcher's automata), garbage at once for them.
 */
export function loadRulePacks(packs: string[]): {
  rules: SigmaRule[];
  problems: RuleProblem[];
  files: number;
  links: Map<string, string>;
} {
  const { rules, problems, files } = loadRuleFiles(packs);
  const linkBases = packs.map((pack) => sigmaHqRoot(resolve(pack)));
  const links = new Map<string, string>();
  for (const rule of rules) {
    const link = linkOf(rule, linkBases);
    if (link) links.set(rule.id, link);
  }
  return { rules, problems, files, links };
}

/** A rule set from YAML text (one or more documents): for tests, the API's rule editor and `rules test`. */
export function ruleSetFromText(
  text: string,
  options: { file?: string; pipeline?: Pipeline } = {},
): { ruleSet: CompiledRuleSet; problems: RuleProblem[] } {
  const { rules, problems } = parseRuleText(text, options.file ?? '<text>');
  let pipeline = options.pipeline;
  if (!pipeline) {
    const loaded = loadPipeline();
    pipeline = loaded.pipeline;
    problems.push(...loaded.problems);
  }
  return { ruleSet: buildRuleSet(rules, pipeline, problems), problems };
}

function buildRuleSet(
  rules: SigmaRule[],
  pipeline: Pipeline,
  problems: RuleProblem[],
  link: (rule: SigmaRule) => string | undefined = () => undefined,
): CompiledRuleSet {
  const detections = rules.filter((r): r is DetectionRule => r.kind === 'detection');
  const filters = rules.filter((r): r is FilterRule => r.kind === 'filter');
  const correlations = rules.filter((r): r is CorrelationRule => r.kind === 'correlation');
  const ruleSet = new CompiledRuleSet(pipeline);
  for (const rule of detections) {
    const problem = ruleSet.add(rule, link(rule), filters);
    if (problem) problems.push(problem);
  }
  const compiled = compileCorrelations(correlations, detections, pipeline);
  problems.push(...compiled.problems);
  ruleSet.setCorrelations(compiled.compiled, (rule) => link(rule));
  return ruleSet;
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

function linkOf(rule: SigmaRule, bases: (string | undefined)[]): string | undefined {
  const file = resolve(rule.file);
  for (const base of bases) {
    if (base && file.startsWith(`${base}/`)) return SIGMAHQ_BLOB + relative(base, file);
  }
  return undefined;
}
