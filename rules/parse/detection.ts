/**
 * A rule's `detection` section → named selections (each a SearchExpr) and the condition tree.
 *
 * - a map is an AND of its field items;
 * - a list of maps is an OR of them;
 * - a list of plain values (or a single value) is a keyword search: any of them occurs in the event's text.
 */
import type { ConditionNode, SearchExpr } from '../model.js';
import { checkCondition, parseConditions } from './condition.js';
import { parseFieldItem } from './modifiers.js';
import { RuleError, type YamlPath } from './rule-error.js';

export interface ParsedDetection {
  selections: Map<string, SearchExpr>;
  condition: ConditionNode;
}

export function parseDetection(detection: unknown, path: YamlPath): ParsedDetection {
  if (!isMap(detection)) throw new RuleError('detection must be a map of selections and a condition', path);
  if (!('condition' in detection)) throw new RuleError('detection has no condition', path);
  const selections = new Map<string, SearchExpr>();
  for (const [name, body] of Object.entries(detection)) {
    if (name === 'condition' || name === 'timeframe') continue;
    selections.set(name, parseSelection(body, [...path, name]));
  }
  if ('timeframe' in detection) {
    throw new RuleError(
      'detection.timeframe belongs to Sigma v1 aggregations: use a correlation rule with a timespan',
      [...path, 'timeframe'],
    );
  }
  const conditionPath = [...path, 'condition'];
  const condition = parseConditions(detection.condition, conditionPath);
  checkCondition(condition, [...selections.keys()], conditionPath);
  return { selections, condition };
}

export function parseSelection(body: unknown, path: YamlPath): SearchExpr {
  if (isMap(body)) return parseFieldMap(body, path);
  if (Array.isArray(body)) {
    if (body.length === 0) throw new RuleError('a selection cannot be an empty list', path);
    // A list of plain values is one keyword item (OR of keywords); maps in a list are alternatives.
    if (body.every((item) => !isMap(item) && !Array.isArray(item))) return parseFieldItem('', body, path);
    const items = body.map((item, index) => {
      if (isMap(item)) return parseFieldMap(item, [...path, index]);
      if (Array.isArray(item))
        throw new RuleError('a selection list cannot contain a list', [...path, index]);
      return parseFieldItem('', item, [...path, index]);
    });
    return items.length === 1 ? items[0]! : { type: 'or', items };
  }
  if (typeof body === 'string' || typeof body === 'number') return parseFieldItem('', body, path);
  throw new RuleError('a selection must be a map, a list of maps or a list of keywords', path);
}

function parseFieldMap(map: Record<string, unknown>, path: YamlPath): SearchExpr {
  const keys = Object.keys(map);
  if (keys.length === 0) throw new RuleError('a selection cannot be an empty map', path);
  const items = keys.map((key) => parseFieldItem(key, map[key], [...path, key]));
  return items.length === 1 ? items[0]! : { type: 'and', items };
}

export function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
