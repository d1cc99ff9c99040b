/**
 * Processing pipelines: Sigma field names → the fields our events carry, and Sigma logsources → the events
 * they stand for, chosen by each rule's `logsource` (pySigma's processing pipelines, kept as YAML in
 * rules/pipelines/ so users add their own without code). A field no pipeline maps keeps its own name, so
 * rules written with ECS names (`source.ip`) work unchanged.
 */
import type { DetectionRule, FilterRule, Logsource, PatternPart, SearchExpr } from '../model.js';
import { mergeLiterals } from '../parse/sigma-string.js';

type RuleWithLogsource = DetectionRule | FilterRule;

export interface Pipeline {
  name: string;
  /** The fields a Sigma field name stands for in events of this rule's logsource (any may match). */
  mapField(field: string, rule: RuleWithLogsource): string[];
  /** The events a rule's logsource covers, as a condition over event fields; undefined = every event. */
  logsourceExpr(rule: RuleWithLogsource): SearchExpr | undefined;
  /** Values of an `expand` placeholder (`%name%`), if the pipeline defines it. */
  placeholder(name: string): string[] | undefined;
  /** Fields searched by keyword selections; null = every value in the event (flat events as written). */
  keywordFields: string[] | null;
}

/** One pipeline file, parsed (see rules/pipelines/*.yml and docs/rules.md for the format). */
export interface PipelineDefinition {
  name: string;
  file: string;
  priority: number;
  appliesTo: Logsource[];
  fieldPrefix?: string;
  /** Mapped fields that never live under the prefix (Windows' System fields: EventID, Channel, ...). */
  noPrefix: Set<string>;
  fields: Map<string, string[]>;
  logsources: { match: Logsource; expr: SearchExpr }[];
  placeholders: Map<string, string[]>;
}

/** No mapping: field names as written, keywords over the event's text fields. */
export const ECS_IDENTITY: Pipeline = {
  name: 'identity',
  mapField: (field) => [field],
  logsourceExpr: () => undefined,
  placeholder: () => undefined,
  keywordFields: ['message', 'event.original'],
};

/** For flat events matched with the rule's own field names (`rules test --no-pipeline`, conformance suites). */
export const NO_PIPELINE: Pipeline = { ...ECS_IDENTITY, name: 'none', keywordFields: null };

/** True when every key the pipeline's logsource names has the same value in the rule's. */
export function logsourceCovers(condition: Logsource, rule: Logsource): boolean {
  for (const key of ['product', 'category', 'service'] as const) {
    const want = condition[key];
    if (want !== undefined && want !== rule[key]) return false;
  }
  return true;
}

function specificity(logsource: Logsource): number {
  return (logsource.product ? 1 : 0) + (logsource.category ? 1 : 0) + (logsource.service ? 1 : 0);
}

/** Several pipeline definitions working as one: each rule uses those whose `applies_to` covers it. */
export class PipelineSet implements Pipeline {
  readonly name: string;
  private readonly byLogsource = new Map<string, PipelineDefinition[]>();

  constructor(
    readonly definitions: PipelineDefinition[],
    readonly keywordFields: string[] | null = ['message', 'event.original'],
  ) {
    this.definitions = [...definitions].sort((a, b) => a.priority - b.priority);
    this.name = this.definitions.map((d) => d.name).join('+') || 'identity';
  }

  private applicable(rule: RuleWithLogsource): PipelineDefinition[] {
    const ls = rule.logsource;
    const key = `${ls.product ?? ''}/${ls.category ?? ''}/${ls.service ?? ''}`;
    let defs = this.byLogsource.get(key);
    if (!defs) {
      defs = this.definitions.filter((d) => d.appliesTo.some((cond) => logsourceCovers(cond, ls)));
      this.byLogsource.set(key, defs);
    }
    return defs;
  }

  mapField(field: string, rule: RuleWithLogsource): string[] {
    const defs = this.applicable(rule);
    for (const def of defs) {
      const mapped = def.fields.get(field);
      if (mapped) {
        const raw =
          def.fieldPrefix && !field.includes('.') && !def.noPrefix.has(field)
            ? [def.fieldPrefix + field]
            : [];
        return [...new Set([...mapped, ...raw])];
      }
    }
    // Dotted names are already event fields (ECS); plain Sigma names go under the pipeline's raw prefix.
    if (!field.includes('.')) {
      const prefixed = defs.find((d) => d.fieldPrefix);
      if (prefixed) return [prefixed.fieldPrefix + field];
    }
    return [field];
  }

  logsourceExpr(rule: RuleWithLogsource): SearchExpr | undefined {
    let best: { expr: SearchExpr; score: number } | undefined;
    for (const def of this.applicable(rule)) {
      for (const entry of def.logsources) {
        if (!logsourceCovers(entry.match, rule.logsource)) continue;
        const score = specificity(entry.match);
        if (!best || score > best.score) best = { expr: entry.expr, score };
      }
    }
    return best?.expr;
  }

  placeholder(name: string): string[] | undefined {
    for (const def of this.definitions) {
      const values = def.placeholders.get(name);
      if (values) return values;
    }
    return undefined;
  }
}

/**
 * The rule's condition as the backends compile it: fields mapped, placeholders expanded, and ANDed with
 * the events its logsource stands for.
 */
export function applyPipeline(
  expr: SearchExpr,
  rule: RuleWithLogsource,
  pipeline: Pipeline,
  withLogsource = true,
): SearchExpr {
  const mapped = mapFields(expr, rule, pipeline);
  const logsource = withLogsource ? pipeline.logsourceExpr(rule) : undefined;
  return logsource ? { type: 'and', items: [logsource, mapped] } : mapped;
}

function mapFields(expr: SearchExpr, rule: RuleWithLogsource, pipeline: Pipeline): SearchExpr {
  switch (expr.type) {
    case 'and':
    case 'or':
      return { type: expr.type, items: expr.items.map((item) => mapFields(item, rule, pipeline)) };
    case 'not':
      return { type: 'not', item: mapFields(expr.item, rule, pipeline) };
    case 'const':
      return expr;
    case 'test': {
      let value = expr.value;
      if (value.kind === 'string' && value.expand) {
        const variants = expandPlaceholders(value.parts, pipeline);
        if (variants) {
          const cased = value.cased;
          const items: SearchExpr[] = variants.map((parts) => ({
            type: 'test',
            field: expr.field,
            value: { kind: 'string', parts, cased },
          }));
          return mapFields(items.length === 1 ? items[0]! : { type: 'or', items }, rule, pipeline);
        }
      }
      if (expr.field === null) return expr;
      if (value.kind === 'fieldref')
        value = { ...value, field: pipeline.mapField(value.field, rule)[0] ?? value.field };
      const fields = pipeline.mapField(expr.field, rule);
      if (fields.length === 1) return { type: 'test', field: fields[0]!, value };
      // Absence must hold on every alternative; every other test on any one of them.
      const negative = value.kind === 'null' || (value.kind === 'exists' && !value.value);
      return {
        type: negative ? 'and' : 'or',
        items: fields.map((field) => ({ type: 'test', field, value })),
      };
    }
  }
}

/** Every pattern with its `%name%` placeholders replaced by the pipeline's values; undefined if one is unknown. */
function expandPlaceholders(parts: PatternPart[], pipeline: Pipeline): PatternPart[][] | undefined {
  let results: PatternPart[][] = [[]];
  for (const part of parts) {
    if (typeof part !== 'string') {
      for (const r of results) r.push(part);
      continue;
    }
    const pieces = part.split(/(%[^%\s]+%)/);
    for (const piece of pieces) {
      if (!piece) continue;
      if (/^%[^%\s]+%$/.test(piece)) {
        const values = pipeline.placeholder(piece.slice(1, -1));
        if (!values) return undefined;
        results = results.flatMap((r) => values.map((v) => [...r, v]));
      } else {
        for (const r of results) r.push(piece);
      }
    }
  }
  return results.map(mergeLiterals);
}
