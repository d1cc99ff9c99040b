/**
 * A loaded, compiled set of detection rules: `match(event)` returns every rule the event satisfies.
 * Each rule's condition is resolved into one SearchExpr, its fields are mapped by the processing
 * pipeline, and the result is compiled once into a closure; all rules share one EventView per event.
 */
import type { SecurityEvent, SigmaLevel } from '../core/model.js';
import type { RuleProblem } from './load.js';
import { type CompiledExpr, ExprCompiler } from './matcher/compile.js';
import { EventView, FieldTable } from './matcher/event-view.js';
import type { DetectionRule, SearchExpr, SigmaRule } from './model.js';
import { resolveCondition } from './parse/condition.js';
import { applyPipeline, type Pipeline } from './pipeline/pipeline.js';

export interface RuleInfo {
  id: string;
  title: string;
  level: SigmaLevel;
  tags: string[];
  author?: string;
  link?: string;
  description?: string;
  file: string;
}

export interface RuleMatch {
  rule: RuleInfo;
}

export interface RuleSet {
  readonly rules: RuleInfo[];
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

/** The condition of a detection rule as one tree of field tests, with the pipeline's field names. */
export function detectionExpr(rule: DetectionRule, pipeline: Pipeline): SearchExpr {
  return applyPipeline(resolveCondition(rule.condition, rule.selections), rule, pipeline);
}

export class CompiledRuleSet implements RuleSet {
  readonly rules: RuleInfo[] = [];
  private readonly compiled: CompiledRule[] = [];
  private readonly fields = new FieldTable();
  private readonly compiler: ExprCompiler;

  constructor(private readonly pipeline: Pipeline) {
    this.compiler = new ExprCompiler(this.fields, { keywordFields: pipeline.keywordFields });
  }

  /** Compiles and adds a rule; returns a problem instead when it cannot be compiled. */
  add(rule: DetectionRule, link?: string): RuleProblem | undefined {
    try {
      const test = this.compiler.compile(detectionExpr(rule, this.pipeline));
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

  match(event: SecurityEvent | Record<string, unknown>): RuleMatch[] {
    const view = new EventView(event, this.fields);
    const matches: RuleMatch[] = [];
    for (const rule of this.compiled) if (rule.test(view)) matches.push({ rule: rule.info });
    return matches;
  }
}
