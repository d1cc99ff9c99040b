/**
 * Pipeline files (YAML) → PipelineDefinitions. The bundled ones live in rules/pipelines/; users add folders
 * of their own. A bad file is a problem with its file and line, like a bad rule, and the rest still load.
 *
 *   name: windows                 # required
 *   priority: 10                  # lower applies first (its field mapping wins)
 *   applies_to: [{product: windows}]
 *   field_prefix: winlog.event_data.   # where unmapped (and mapped) raw fields also live
 *   no_prefix: [EventID, Channel]      # mapped fields that are never under the prefix
 *   fields: {Image: process.executable, EventID: [event.code, winlog.event_id]}
 *   logsources:                   # the events a logsource stands for: a Sigma detection over event fields
 *     - match: {product: windows, category: process_creation}
 *       detection: {sel: {event.code: '1'}, condition: sel}
 *   placeholders: {Admins_Workstations: [ws-admin-1, ws-admin-2]}
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { PACKAGE_ROOT } from '../../core/package-root.js';
import { listRuleFiles, type RuleProblem } from '../load.js';
import type { Logsource } from '../model.js';
import { resolveCondition } from '../parse/condition.js';
import { isMap, parseDetection } from '../parse/detection.js';
import { RuleError } from '../parse/rule-error.js';
import type { PipelineDefinition } from './pipeline.js';

/** The pipelines shipped with siem-lite. */
export const BUNDLED_PIPELINES = join(PACKAGE_ROOT, 'rules', 'pipelines');

export function loadPipelineFiles(paths: string[]): {
  definitions: PipelineDefinition[];
  problems: RuleProblem[];
} {
  const definitions: PipelineDefinition[] = [];
  const problems: RuleProblem[] = [];
  let files: string[];
  try {
    files = listRuleFiles(paths);
  } catch (error) {
    return { definitions, problems: [{ file: paths.join(', '), message: String(error) }] };
  }
  for (const file of files) {
    const lineCounter = new LineCounter();
    try {
      const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter, uniqueKeys: true });
      if (doc.errors.length > 0) {
        const error = doc.errors[0]!;
        const pos = lineCounter.linePos(error.pos[0]);
        problems.push({
          file,
          line: pos.line,
          column: pos.col,
          message: `YAML: ${error.message.split('\n')[0]}`,
        });
        continue;
      }
      definitions.push(parsePipeline(doc.toJS(), file));
    } catch (error) {
      let line: number | undefined;
      if (error instanceof RuleError && error.path.length > 0) {
        const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter: new LineCounter() });
        const node = doc.getIn(error.path, true) as { range?: [number, number] } | undefined;
        if (node?.range) line = lineCounter.linePos(node.range[0]).line;
      }
      problems.push({
        file,
        ...(line ? { line } : {}),
        message: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return { definitions, problems };
}

export function parsePipeline(value: unknown, file: string): PipelineDefinition {
  if (!isMap(value)) throw new RuleError('a pipeline must be a YAML map');
  if (typeof value.name !== 'string' || !value.name)
    throw new RuleError('pipeline name is required', ['name']);
  const priority = value.priority ?? 50;
  if (typeof priority !== 'number') throw new RuleError('priority must be a number', ['priority']);
  const appliesTo = logsourceList(value.applies_to, ['applies_to']);
  if (value.field_prefix !== undefined && typeof value.field_prefix !== 'string') {
    throw new RuleError('field_prefix must be a string', ['field_prefix']);
  }
  const fields = new Map<string, string[]>();
  if (value.fields !== undefined) {
    if (!isMap(value.fields))
      throw new RuleError('fields must map Sigma field names to event fields', ['fields']);
    for (const [sigma, target] of Object.entries(value.fields)) {
      const targets = typeof target === 'string' ? [target] : target;
      if (!Array.isArray(targets) || targets.length === 0 || !targets.every((t) => typeof t === 'string')) {
        throw new RuleError(`fields.${sigma} must be a field name or a list of them`, ['fields', sigma]);
      }
      fields.set(sigma, targets as string[]);
    }
  }
  const noPrefix = new Set<string>();
  if (value.no_prefix !== undefined) {
    if (!Array.isArray(value.no_prefix) || !value.no_prefix.every((f: unknown) => typeof f === 'string')) {
      throw new RuleError('no_prefix must be a list of field names', ['no_prefix']);
    }
    for (const field of value.no_prefix as string[]) noPrefix.add(field);
  }
  const logsources: PipelineDefinition['logsources'] = [];
  if (value.logsources !== undefined) {
    if (!Array.isArray(value.logsources)) throw new RuleError('logsources must be a list', ['logsources']);
    value.logsources.forEach((entry: unknown, i: number) => {
      if (!isMap(entry)) throw new RuleError('each logsource needs match and detection', ['logsources', i]);
      const [match] = logsourceList([entry.match], ['logsources', i, 'match']);
      const { selections, condition } = parseDetection(entry.detection, ['logsources', i, 'detection']);
      logsources.push({ match: match!, expr: resolveCondition(condition, selections) });
    });
  }
  const placeholders = new Map<string, string[]>();
  if (value.placeholders !== undefined) {
    if (!isMap(value.placeholders)) throw new RuleError('placeholders must be a map', ['placeholders']);
    for (const [name, values] of Object.entries(value.placeholders)) {
      const list = Array.isArray(values) ? values : [values];
      placeholders.set(name, list.map(String));
    }
  }
  return {
    name: value.name,
    file,
    priority,
    appliesTo,
    ...(typeof value.field_prefix === 'string' ? { fieldPrefix: value.field_prefix } : {}),
    noPrefix,
    fields,
    logsources,
    placeholders,
  };
}

function logsourceList(value: unknown, path: (string | number)[]): Logsource[] {
  if (value === undefined) return [{}];
  const list = Array.isArray(value) ? value : [value];
  return list.map((item, i) => {
    if (!isMap(item))
      throw new RuleError('a logsource must be a map of product/category/service', [...path, i]);
    const ls: Logsource = {};
    for (const key of ['product', 'category', 'service'] as const) {
      const v = item[key];
      if (v === undefined) continue;
      if (typeof v !== 'string') throw new RuleError(`logsource ${key} must be a string`, [...path, i, key]);
      ls[key] = v.toLowerCase();
    }
    return ls;
  });
}
