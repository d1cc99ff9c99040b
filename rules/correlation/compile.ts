/**
 * Correlation rules, compiled: references resolved to rule ids, and for every referenced rule the fields
 * its events carry the group-by values and the counted value in (aliases and the processing pipeline
 * applied, since a Windows rule's `IpAddress` lives in `source.ip`). This is the form the reference
 * evaluator and the correlator's windows share.
 */
import type { RuleProblem } from '../load.js';
import { compileAccessor, type FieldAccessor } from '../matcher/event-view.js';
import type { CorrelationCondition, CorrelationRule, CorrelationType, DetectionRule } from '../model.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { type RuleInfo, ruleInfoOf } from '../rule-set.js';

/** How to read one value (a group-by field or the counted field) from a referenced rule's events. */
export interface FieldReader {
  /** The event fields tried in order (the pipeline's alternatives); the first present value counts. */
  fields: string[];
  read(event: unknown): string | undefined;
}

export interface CompiledCorrelation {
  info: RuleInfo;
  source: CorrelationRule;
  type: CorrelationType;
  /** Referenced rule ids, in the order written (temporal_ordered needs it). */
  ruleIds: string[];
  /** The group-by names as written (alias names included): the keys of a hit's groupBy. */
  groupBy: string[];
  /** ruleId → one reader per group-by name. */
  groupReaders: Map<string, FieldReader[]>;
  /** ruleId → reader of `condition.field` (value_count and the value_* metrics). */
  valueReaders: Map<string, FieldReader>;
  timespanMs: number;
  condition: CorrelationCondition;
}

function reader(fields: string[]): FieldReader {
  const accessors: FieldAccessor[] = fields.map(compileAccessor);
  return {
    fields,
    read(event) {
      for (const accessor of accessors) {
        for (const value of accessor(event)) {
          if (value === null || typeof value === 'object') continue;
          return String(value);
        }
      }
      return undefined;
    },
  };
}

/**
 * Resolves and compiles correlations. Rules are found by id or name among the detection rules and the
 * other correlations (chaining); unknown references and cycles are problems, and such a correlation is left
 * out. Returns them in dependency order (a correlation after those it references).
 */
export function compileCorrelations(
  correlations: CorrelationRule[],
  detections: DetectionRule[],
  pipeline: Pipeline,
): { compiled: CompiledCorrelation[]; problems: RuleProblem[] } {
  const problems: RuleProblem[] = [];
  const byRef = new Map<string, DetectionRule | CorrelationRule>();
  for (const rule of [...detections, ...correlations]) {
    byRef.set(rule.id, rule);
    if (rule.name) byRef.set(rule.name, rule);
  }
  const resolve = (ref: string) => byRef.get(ref) ?? byRef.get(ref.toLowerCase());
  const compiled = new Map<string, CompiledCorrelation>();
  const failed = new Set<string>();
  const visiting = new Set<string>();
  const ordered: CompiledCorrelation[] = [];

  const problem = (rule: CorrelationRule, message: string) => {
    problems.push({ file: rule.file, line: rule.line, ruleId: rule.id, message });
    failed.add(rule.id);
  };

  const visit = (rule: CorrelationRule): boolean => {
    if (compiled.has(rule.id)) return true;
    if (failed.has(rule.id)) return false;
    if (visiting.has(rule.id)) {
      problem(rule, 'correlation references itself through a cycle');
      return false;
    }
    visiting.add(rule.id);
    const targets: (DetectionRule | CorrelationRule)[] = [];
    for (const ref of rule.rules) {
      const target = resolve(ref);
      if (!target) {
        problem(rule, `correlation refers to rule '${ref}', which is not loaded`);
        visiting.delete(rule.id);
        return false;
      }
      if (target.kind === 'correlation' && !visit(target)) {
        problem(rule, `correlation refers to '${ref}', which could not be compiled`);
        visiting.delete(rule.id);
        return false;
      }
      targets.push(target);
    }
    visiting.delete(rule.id);
    const fieldsFor = (target: DetectionRule | CorrelationRule, name: string): string[] => {
      // An alias names a different field per referenced rule (by id or name).
      const alias = rule.aliases[name];
      const field = alias ? (alias[target.id] ?? (target.name ? alias[target.name] : undefined)) : name;
      if (field === undefined) return [];
      // A chained correlation's hits carry their group-by values under the names themselves.
      return target.kind === 'correlation' ? [field] : pipeline.mapField(field, target);
    };
    const groupReaders = new Map<string, FieldReader[]>();
    const valueReaders = new Map<string, FieldReader>();
    for (const target of targets) {
      const readers = rule.groupBy.map((name) => reader(fieldsFor(target, name)));
      if (readers.some((r) => r.fields.length === 0)) {
        problem(rule, `an alias in group-by has no field for rule '${target.name ?? target.id}'`);
        return false;
      }
      groupReaders.set(target.id, readers);
      if (rule.condition.field) valueReaders.set(target.id, reader(fieldsFor(target, rule.condition.field)));
    }
    const condition =
      (rule.type === 'temporal' || rule.type === 'temporal_ordered') && isDefaultCondition(rule.condition)
        ? { gte: targets.length }
        : rule.condition;
    const result: CompiledCorrelation = {
      info: ruleInfoOf(rule),
      source: rule,
      type: rule.type,
      ruleIds: targets.map((t) => t.id),
      groupBy: rule.groupBy,
      groupReaders,
      valueReaders,
      timespanMs: rule.timespanMs,
      condition,
    };
    compiled.set(rule.id, result);
    ordered.push(result);
    return true;
  };

  for (const rule of correlations) visit(rule);
  return { compiled: ordered, problems };
}

function isDefaultCondition(condition: CorrelationCondition): boolean {
  const keys = Object.keys(condition);
  return keys.length === 1 && condition.gte === 0;
}

/** Whether a measured value satisfies a correlation condition (every bound given must hold). */
export function conditionHolds(condition: CorrelationCondition, value: number): boolean {
  if (condition.gt !== undefined && !(value > condition.gt)) return false;
  if (condition.gte !== undefined && !(value >= condition.gte)) return false;
  if (condition.lt !== undefined && !(value < condition.lt)) return false;
  if (condition.lte !== undefined && !(value <= condition.lte)) return false;
  if (condition.eq !== undefined && value !== condition.eq) return false;
  if (condition.neq !== undefined && value === condition.neq) return false;
  return true;
}
