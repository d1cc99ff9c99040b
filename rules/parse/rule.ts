/**
 * One YAML document → one Sigma rule: a detection rule, a correlation rule or a filter, with its metadata
 * validated. Throws RuleError (with the YAML path of the offending key) on anything the spec forbids.
 */
import { createHash } from 'node:crypto';
import { parseDuration } from '../../core/duration.js';
import type { SigmaLevel } from '../../core/model.js';
import {
  type CorrelationCondition,
  type CorrelationRule,
  type CorrelationType,
  type DetectionRule,
  type FilterRule,
  type Logsource,
  type RuleMeta,
  SIGMA_LEVELS,
  type SigmaRule,
} from '../model.js';
import { isMap, parseDetection } from './detection.js';
import { RuleError } from './rule-error.js';

const CORRELATION_TYPES: readonly CorrelationType[] = [
  'event_count',
  'value_count',
  'temporal',
  'temporal_ordered',
  'value_sum',
  'value_avg',
  'value_percentile',
  'value_median',
];
const CONDITION_OPS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseRule(doc: unknown, file: string, line: number): SigmaRule {
  if (!isMap(doc)) throw new RuleError('a rule must be a YAML map');
  if ('correlation' in doc) return parseCorrelation(doc, meta(doc, file, line, false));
  if ('filter' in doc) return parseFilter(doc, meta(doc, file, line, false));
  if (!('detection' in doc))
    throw new RuleError('not a Sigma rule: no detection, correlation or filter section');
  return parseDetectionRule(doc, meta(doc, file, line, true));
}

function meta(doc: Record<string, unknown>, file: string, line: number, needsLogsource: boolean): RuleMeta {
  const title = doc.title;
  if (typeof title !== 'string' || title.trim() === '') throw new RuleError('title is required', ['title']);
  if (title.length > 256) throw new RuleError('title is longer than 256 characters', ['title']);
  if (doc.id !== undefined && (typeof doc.id !== 'string' || !UUID.test(doc.id))) {
    throw new RuleError(`id must be a UUID, got '${String(doc.id)}'`, ['id']);
  }
  if (doc.name !== undefined && typeof doc.name !== 'string')
    throw new RuleError('name must be a string', ['name']);
  let level: SigmaLevel = 'medium';
  if (doc.level !== undefined) {
    if (!SIGMA_LEVELS.includes(doc.level as SigmaLevel)) {
      throw new RuleError(`level must be one of ${SIGMA_LEVELS.join(', ')}, got '${String(doc.level)}'`, [
        'level',
      ]);
    }
    level = doc.level as SigmaLevel;
  }
  if (needsLogsource && !isMap(doc.logsource)) throw new RuleError('logsource is required', ['logsource']);
  const tags = stringList(doc.tags, 'tags').map((t) => t.toLowerCase());
  for (const [i, tag] of tags.entries()) {
    if (!/^[a-z0-9_-]+\.[a-z0-9._-]+$/.test(tag))
      throw new RuleError(`tag '${tag}' is not namespace.name`, ['tags', i]);
  }
  return {
    // A rule without an id still needs a stable one: derived from its file and title.
    id: typeof doc.id === 'string' ? doc.id.toLowerCase() : derivedId(file, title),
    ...(typeof doc.name === 'string' ? { name: doc.name } : {}),
    title,
    ...optionalString(doc, 'status'),
    ...optionalString(doc, 'description'),
    ...optionalString(doc, 'author'),
    ...optionalDate(doc, 'date'),
    ...optionalDate(doc, 'modified'),
    references: stringList(doc.references, 'references'),
    tags,
    level,
    falsepositives: stringList(doc.falsepositives, 'falsepositives'),
    file,
    line,
  };
}

function derivedId(file: string, title: string): string {
  const h = createHash('sha256').update(`${file}\0${title}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function optionalString(doc: Record<string, unknown>, key: string): Record<string, string> {
  const value = doc[key];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'string') throw new RuleError(`${key} must be a string`, [key]);
  return { [key]: value };
}

function optionalDate(doc: Record<string, unknown>, key: string): Record<string, string> {
  const value = doc[key];
  if (value === undefined || value === null) return {};
  if (value instanceof Date) return { [key]: value.toISOString().slice(0, 10) };
  if (typeof value !== 'string') throw new RuleError(`${key} must be a date (YYYY-MM-DD)`, [key]);
  return { [key]: value };
}

function stringList(value: unknown, key: string): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) throw new RuleError(`${key} must be a list of strings`, [key]);
  return value.map((item, i) => {
    if (typeof item === 'string') return item;
    if (typeof item === 'number' || typeof item === 'boolean') return String(item);
    throw new RuleError(`${key} must be a list of strings`, [key, i]);
  });
}

function parseLogsource(value: unknown): Logsource {
  if (!isMap(value)) throw new RuleError('logsource must be a map', ['logsource']);
  const logsource: Logsource = {};
  for (const key of ['product', 'category', 'service', 'definition'] as const) {
    const v = value[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw new RuleError(`logsource.${key} must be a string`, ['logsource', key]);
    logsource[key] = key === 'definition' ? v : v.toLowerCase();
  }
  return logsource;
}

function parseDetectionRule(doc: Record<string, unknown>, base: RuleMeta): DetectionRule {
  const logsource = parseLogsource(doc.logsource);
  const { selections, condition } = parseDetection(doc.detection, ['detection']);
  return { ...base, kind: 'detection', logsource, selections, condition };
}

function parseFilter(doc: Record<string, unknown>, base: RuleMeta): FilterRule {
  const logsource = doc.logsource === undefined ? {} : parseLogsource(doc.logsource);
  const body = doc.filter;
  if (!isMap(body)) throw new RuleError('filter must be a map', ['filter']);
  let rules: string[] | 'any';
  if (typeof body.rules === 'string' && body.rules.toLowerCase() === 'any') rules = 'any';
  else {
    rules = stringList(body.rules, 'rules');
    if (rules.length === 0)
      throw new RuleError(`filter.rules must list rule ids/names or be 'any'`, ['filter', 'rules']);
  }
  const { rules: _ignored, ...detection } = body;
  const { selections, condition } = parseDetection(detection, ['filter']);
  return { ...base, kind: 'filter', logsource, rules, selections, condition };
}

function parseCorrelation(doc: Record<string, unknown>, base: RuleMeta): CorrelationRule {
  const body = doc.correlation;
  const at = (key: string) => ['correlation', key];
  if (!isMap(body)) throw new RuleError('correlation must be a map', ['correlation']);
  const type = body.type as CorrelationType;
  if (!CORRELATION_TYPES.includes(type)) {
    throw new RuleError(`correlation.type must be one of ${CORRELATION_TYPES.join(', ')}`, at('type'));
  }
  const rules = stringList(body.rules, 'rules');
  if (rules.length === 0) throw new RuleError('correlation.rules must name at least one rule', at('rules'));
  const groupBy = stringList(body['group-by'], 'group-by');
  const timespanText = body.timespan ?? body.timeframe;
  if (typeof timespanText !== 'string' && typeof timespanText !== 'number') {
    throw new RuleError('correlation.timespan is required (e.g. 10m)', at('timespan'));
  }
  const timespanMs = typeof timespanText === 'number' ? timespanText * 1000 : parseDuration(timespanText);
  if (timespanMs === undefined || timespanMs <= 0) {
    throw new RuleError(
      `correlation.timespan '${timespanText}' is not a duration like 30s, 10m, 1h, 1d`,
      at('timespan'),
    );
  }
  const condition = parseCorrelationCondition(body.condition, type);
  const aliases = parseAliases(body.aliases);
  if (type === 'temporal' || type === 'temporal_ordered') {
    if (rules.length < 2) throw new RuleError(`${type} needs at least two rules`, at('rules'));
  }
  const generate = body.generate ?? doc.generate ?? false;
  if (typeof generate !== 'boolean') throw new RuleError('generate must be true or false', at('generate'));
  return { ...base, kind: 'correlation', type, rules, groupBy, timespanMs, condition, aliases, generate };
}

function parseCorrelationCondition(value: unknown, type: CorrelationType): CorrelationCondition {
  const path = ['correlation', 'condition'];
  if (value === undefined && (type === 'temporal' || type === 'temporal_ordered')) return { gte: 0 };
  if (!isMap(value)) throw new RuleError('correlation.condition must be a map like {gte: 10}', path);
  const condition: CorrelationCondition = {};
  let comparisons = 0;
  for (const [key, v] of Object.entries(value)) {
    if ((CONDITION_OPS as readonly string[]).includes(key)) {
      if (typeof v !== 'number')
        throw new RuleError(`correlation.condition.${key} must be a number`, [...path, key]);
      condition[key as (typeof CONDITION_OPS)[number]] = v;
      comparisons++;
    } else if (key === 'field') {
      if (typeof v !== 'string' && !(Array.isArray(v) && v.length === 1 && typeof v[0] === 'string')) {
        throw new RuleError('correlation.condition.field must be a field name', [...path, key]);
      }
      condition.field = Array.isArray(v) ? v[0] : v;
    } else if (key === 'percentile') {
      if (typeof v !== 'number' || v < 0 || v > 100) {
        throw new RuleError('correlation.condition.percentile must be 0–100', [...path, key]);
      }
      condition.percentile = v;
    } else {
      throw new RuleError(`unknown key '${key}' in correlation.condition`, [...path, key]);
    }
  }
  if (comparisons === 0) throw new RuleError('correlation.condition needs gt, gte, lt, lte, eq or neq', path);
  const needsField = type !== 'event_count' && type !== 'temporal' && type !== 'temporal_ordered';
  if (needsField && !condition.field) throw new RuleError(`${type} needs correlation.condition.field`, path);
  if (type === 'value_percentile' && condition.percentile === undefined) {
    throw new RuleError('value_percentile needs correlation.condition.percentile', path);
  }
  return condition;
}

function parseAliases(value: unknown): Record<string, Record<string, string>> {
  if (value === undefined || value === null) return {};
  if (!isMap(value)) throw new RuleError('correlation.aliases must be a map', ['correlation', 'aliases']);
  const aliases: Record<string, Record<string, string>> = {};
  for (const [alias, mapping] of Object.entries(value)) {
    if (!isMap(mapping)) {
      throw new RuleError(`alias '${alias}' must map rule names to fields`, [
        'correlation',
        'aliases',
        alias,
      ]);
    }
    aliases[alias] = {};
    for (const [rule, field] of Object.entries(mapping)) {
      if (typeof field !== 'string') {
        throw new RuleError(`alias '${alias}': field for '${rule}' must be a string`, [
          'correlation',
          'aliases',
          alias,
        ]);
      }
      aliases[alias][rule] = field;
    }
  }
  return aliases;
}
