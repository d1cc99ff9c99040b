/**
 * Processing pipelines: Sigma field names → the fields our events carry, chosen by each rule's logsource
 * (pySigma's processing pipelines). A field a pipeline does not map keeps its own name, so rules written
 * with ECS names (`source.ip`) work unchanged.
 */
import type { DetectionRule, FilterRule, SearchExpr } from '../model.js';

export interface Pipeline {
  name: string;
  /** The fields a Sigma field name stands for in events of this rule's logsource (first = preferred). */
  mapField(field: string, rule: DetectionRule | FilterRule): string[];
  /** Fields searched by keyword selections; null = every value in the event (flat events as written). */
  keywordFields: string[] | null;
}

/** No mapping: field names as written, keywords over the event's text fields. */
export const ECS_IDENTITY: Pipeline = {
  name: 'identity',
  mapField: (field) => [field],
  keywordFields: ['message', 'event.original'],
};

/** For flat events matched with the rule's own field names (`rules test --no-pipeline`, conformance suites). */
export const NO_PIPELINE: Pipeline = {
  name: 'none',
  mapField: (field) => [field],
  keywordFields: null,
};

/** Rewrites every field test with the pipeline's names; a field mapped to several becomes an OR. */
export function applyPipeline(
  expr: SearchExpr,
  rule: DetectionRule | FilterRule,
  pipeline: Pipeline,
): SearchExpr {
  switch (expr.type) {
    case 'and':
    case 'or':
      return { type: expr.type, items: expr.items.map((item) => applyPipeline(item, rule, pipeline)) };
    case 'not':
      return { type: 'not', item: applyPipeline(expr.item, rule, pipeline) };
    case 'const':
      return expr;
    case 'test': {
      if (expr.field === null) return expr;
      let value = expr.value;
      if (value.kind === 'fieldref')
        value = { ...value, field: pipeline.mapField(value.field, rule)[0] ?? value.field };
      const fields = pipeline.mapField(expr.field, rule);
      if (fields.length === 1) return { type: 'test', field: fields[0]!, value };
      // Absence must hold on every alternative; presence-style tests on any one of them.
      const negative = value.kind === 'null' || (value.kind === 'exists' && !value.value);
      return {
        type: negative ? 'and' : 'or',
        items: fields.map((field) => ({ type: 'test', field, value })),
      };
    }
  }
}
