/**
 * The Sigma rule model: what the loader produces and every backend (matcher, Elasticsearch, SQL) consumes.
 *
 * A detection is parsed once into a backend-neutral boolean tree (`SearchExpr`) whose leaves are
 * `FieldTest`s — one field, one already-modified value. Backends never see YAML or modifiers: they only
 * compile this tree (the pySigma split of rule model, processing pipeline and backend).
 */
import type { SigmaLevel } from '../core/model.js';

export const SIGMA_LEVELS: readonly SigmaLevel[] = ['informational', 'low', 'medium', 'high', 'critical'];

export interface Logsource {
  product?: string;
  category?: string;
  service?: string;
  definition?: string;
}

/** One piece of a Sigma string: literal text or a wildcard. */
export type PatternPart = string | { wildcard: '*' | '?' };

/**
 * The value side of a leaf. Strings carry the position modifiers already folded into wildcards
 * (`contains` = `*x*`), as pySigma does, so backends handle one shape.
 */
export type ValueTest =
  /** `expand`: literal parts still hold `%name%` placeholders that a processing pipeline must resolve. */
  | { kind: 'string'; parts: PatternPart[]; cased: boolean; expand?: boolean }
  | { kind: 'regex'; source: string; flags: string }
  | { kind: 'number'; value: number }
  | { kind: 'bool'; value: boolean }
  /** `field: null`: the field is absent or null. */
  | { kind: 'null' }
  | { kind: 'exists'; value: boolean }
  | { kind: 'compare'; op: CompareOp; value: number; timePart?: TimePart }
  | { kind: 'cidr'; cidr: string; version: 4 | 6 }
  | {
      kind: 'fieldref';
      field: string;
      position: 'exact' | 'startswith' | 'endswith' | 'contains';
      cased: boolean;
    };

export type CompareOp = 'lt' | 'lte' | 'gt' | 'gte' | 'eq';
export type TimePart = 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';

/** A leaf: one field (null = keyword search over the event's text) tested against one value. */
export interface FieldTest {
  type: 'test';
  field: string | null;
  value: ValueTest;
}

export type SearchExpr =
  | { type: 'and'; items: SearchExpr[] }
  | { type: 'or'; items: SearchExpr[] }
  | { type: 'not'; item: SearchExpr }
  | { type: 'const'; value: boolean }
  | FieldTest;

/** Condition syntax tree, before `1 of` / `them` are expanded over the selection names. */
export type ConditionNode =
  | { type: 'and'; items: ConditionNode[] }
  | { type: 'or'; items: ConditionNode[] }
  | { type: 'not'; item: ConditionNode }
  | { type: 'ref'; name: string }
  | { type: 'of'; quantifier: 'one' | 'all'; pattern: string };

/** What every rule kind shares (the metadata shown on detections; DRL 1.1 asks to keep author and a link). */
export interface RuleMeta {
  id: string;
  /** Sigma `name`: correlations and filters may reference rules by it. */
  name?: string;
  title: string;
  status?: string;
  description?: string;
  author?: string;
  references: string[];
  date?: string;
  modified?: string;
  tags: string[];
  level: SigmaLevel;
  falsepositives: string[];
  /** Where it came from: the file, and the 1-based line where its document starts. */
  file: string;
  line: number;
}

export interface DetectionRule extends RuleMeta {
  kind: 'detection';
  logsource: Logsource;
  /** Named selections as parsed (before field mapping), kept for explanations ("which selection fired"). */
  selections: Map<string, SearchExpr>;
  condition: ConditionNode;
}

export type CorrelationType =
  | 'event_count'
  | 'value_count'
  | 'temporal'
  | 'temporal_ordered'
  | 'value_sum'
  | 'value_avg'
  | 'value_percentile'
  | 'value_median';

export interface CorrelationCondition {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  eq?: number;
  neq?: number;
  /** Field whose values are counted/summed (value_count and the value_* metrics). */
  field?: string;
  /** For value_percentile: which percentile (0–100). */
  percentile?: number;
}

export interface CorrelationRule extends RuleMeta {
  kind: 'correlation';
  type: CorrelationType;
  /** Referenced rules, by id or name, as written. */
  rules: string[];
  groupBy: string[];
  /** Window length in milliseconds. */
  timespanMs: number;
  condition: CorrelationCondition;
  /** alias → (rule id or name → field in that rule's events). */
  aliases: Record<string, Record<string, string>>;
  /** Whether the referenced rules also emit their own detections. */
  generate: boolean;
}

export interface FilterRule extends RuleMeta {
  kind: 'filter';
  logsource: Logsource;
  /** Rule ids/names the filter applies to; `any` applies to every rule with a matching logsource. */
  rules: string[] | 'any';
  selections: Map<string, SearchExpr>;
  condition: ConditionNode;
}

export type SigmaRule = DetectionRule | CorrelationRule | FilterRule;
