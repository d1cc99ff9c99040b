/**
 * A loaded, compiled set of detection rules: `match(event)` returns every rule the event satisfies.
 * Each rule's condition is resolved into one SearchExpr, its fields are mapped by the processing
 * pipeline, and the result is compiled once into a closure; all rules share one EventView per event.
 */
import type { SecurityEvent, SigmaLevel } from '../core/model.js';
import type { CompiledCorrelation } from './correlation/compile.js';
import type { RuleProblem } from './load.js';
import { type CompiledExpr, ExprCompiler } from './matcher/compile.js';
import { EventView, FieldTable } from './matcher/event-view.js';
import { Prefilter } from './matcher/prefilter.js';
import type { DetectionRule, FilterRule, SearchExpr, SigmaRule } from './model.js';
import { resolveCondition } from './parse/condition.js';
import { applyPipeline, logsourceCovers, type Pipeline } from './pipeline/pipeline.js';

export interface RuleInfo {
  id: string;
  title: string;
  level: SigmaLevel;
  tags: string[];
  author?: string;
  link?: string;
  description?: string;
  file: string;
  /**
   * False when the rule only feeds correlation rules (Sigma `generate: false`, the default): its matches
   * count towards those correlations but should not become detections of their own.
   */
  generate?: boolean;
}

export interface RuleMatch {
  rule: RuleInfo;
}

export interface RuleSet {
  /** The detection rules. */
  readonly rules: RuleInfo[];
  /** The correlation rules, compiled for the evaluator (CorrelationEvaluator) and the correlator. */
  readonly correlations?: CompiledCorrelation[];
  match(event: SecurityEvent): RuleMatch[];
}

export function ruleInfoOf(rule: SigmaRule, link?: string): RuleInfo {
  return {
    id: rule.id,
    title: rule.title,
    level: rule.level,
    tags: rule.tags,
    ...(rule.author ? { author: rule.author } : {}),
    ...(link ? { link } : {}),
    ...(rule.description ? { description: rule.description } : {}),
    file: rule.file,
  };
}

interface CompiledRule {
  info: RuleInfo;
  source: DetectionRule;
  test: CompiledExpr;
}

/** Whether a Sigma filter applies to a rule: named by id or name (or `any`), and its logsource covers the rule's. */
export function filterApplies(filter: FilterRule, rule: DetectionRule): boolean {
  if (!logsourceCovers(filter.logsource, rule.logsource)) return false;
  if (filter.rules === 'any') return true;
  return filter.rules.some(
    (ref) => ref.toLowerCase() === rule.id || (rule.name !== undefined && ref === rule.name),
  );
}

/**
 * The condition of a detection rule as one tree of field tests: the pipeline's field names, the events its
 * logsource stands for, and each applicable filter ANDed on as pySigma does (`rule and (filter condition)`,
 * where a filter's condition is usually `not selection`).
 */
export function detectionExpr(
  rule: DetectionRule,
  pipeline: Pipeline,
  filters: FilterRule[] = [],
): SearchExpr {
  const expr = applyPipeline(resolveCondition(rule.condition, rule.selections), rule, pipeline);
  const applicable = filters.filter((f) => filterApplies(f, rule));
  if (applicable.length === 0) return expr;
  // A filter's fields are mapped as for the rule it filters; the rule already selects the events.
  const filterExprs = applicable.map((f) =>
    applyPipeline(
      resolveCondition(f.condition, f.selections),
      { ...f, logsource: rule.logsource },
      pipeline,
      false,
    ),
  );
  return { type: 'and', items: [expr, ...filterExprs] };
}

export class CompiledRuleSet implements RuleSet {
  readonly rules: RuleInfo[] = [];
  correlations: CompiledCorrelation[] = [];
  private readonly compiled: CompiledRule[] = [];
  private readonly fields = new FieldTable();
  private readonly compiler: ExprCompiler;

  constructor(
    private readonly pipeline: Pipeline,
    readonly options: { prefilter?: boolean } = {},
  ) {
    this.compiler = new ExprCompiler(this.fields, { keywordFields: pipeline.keywordFields });
    if (options.prefilter !== false) this.prefilter = new Prefilter(this.fields, pipeline.keywordFields);
  }

  private readonly prefilter: Prefilter | undefined;

  /** Compiles and adds a rule; returns a problem instead when it cannot be compiled. */
  add(rule: DetectionRule, link?: string, filters: FilterRule[] = []): RuleProblem | undefined {
    try {
      const expr = detectionExpr(rule, this.pipeline, filters);
      const test = this.compiler.compile(expr);
      this.prefilter?.add(expr);
      const info = ruleInfoOf(rule, link);
      this.compiled.push({ info, source: rule, test });
      this.rules.push(info);
      return undefined;
    } catch (error) {
      return {
        file: rule.file,
        line: rule.line,
        ruleId: rule.id,
        message: `cannot compile: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }

  /** Installs the compiled correlations and marks the rules that only feed them (`generate: false`). */
  setCorrelations(
    correlations: CompiledCorrelation[],
    link: (rule: CompiledCorrelation['source']) => string | undefined,
  ) {
    this.correlations = correlations;
    for (const c of correlations) {
      const url = link(c.source);
      if (url) c.info.link = url;
    }
    const generating = new Set<string>();
    const referenced = new Set<string>();
    for (const c of correlations) {
      for (const id of c.ruleIds) {
        referenced.add(id);
        if (c.source.generate) generating.add(id);
      }
    }
    for (const rule of this.compiled) {
      if (referenced.has(rule.info.id) && !generating.has(rule.info.id)) rule.info.generate = false;
    }
  }

  /** The detection rule with this id, as loaded (for explanations). */
  source(id: string): DetectionRule | undefined {
    return this.compiled.find((r) => r.info.id === id)?.source;
  }

  private readonly selectionTests = new Map<string, [string, CompiledExpr][]>();

  /** Why a rule matched: the names of its selections that hold on the event (fields mapped as for matching). */
  explain(ruleId: string, event: SecurityEvent | Record<string, unknown>): string[] {
    const rule = this.source(ruleId);
    if (!rule) return [];
    let tests = this.selectionTests.get(ruleId);
    if (!tests) {
      tests = [...rule.selections].map(([name, expr]) => [
        name,
        this.compiler.compile(applyPipeline(expr, rule, this.pipeline, false)),
      ]);
      this.selectionTests.set(ruleId, tests);
    }
    const view = new EventView(event, this.fields);
    return tests.filter(([, test]) => test(view)).map(([name]) => name);
  }

  /** One view reused for every event (matching is synchronous), so caches are not reallocated per event. */
  private view: EventView | undefined;

  match(event: SecurityEvent | Record<string, unknown>): RuleMatch[] {
    this.view ??= new EventView(undefined, this.fields);
    const view = this.view.reset(event);
    const matches: RuleMatch[] = [];
    if (this.prefilter) {
      const count = this.prefilter.candidates(view);
      const chosen = this.prefilter.chosenRules();
      for (let c = 0; c < count; c++) {
        const rule = this.compiled[chosen[c]!]!;
        if (rule.test(view)) matches.push({ rule: rule.info });
      }
    } else {
      for (const rule of this.compiled) if (rule.test(view)) matches.push({ rule: rule.info });
    }
    return matches;
  }
}
