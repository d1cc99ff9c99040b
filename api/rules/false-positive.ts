/**
 * "Mark false positive → create the exception": a Sigma filter document (rules/ parses it like any other)
 * scoped to the rule that opened the incident and to the incident's group-by values and agency, so the
 * same entity no longer fires that rule there — and nothing else changes. A correlation incident is filtered
 * at the detection rules it counts (a filter applies to detection rules), with each group-by name mapped to
 * the field that rule's events carry it in (aliases and the processing pipeline, as the correlator reads it).
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { Incident } from '../../core/model.js';
import type { StoredRule } from '../../core/ports.js';
import type { CompiledCorrelation, CompiledRuleSet } from '../../rules/index.js';
import { ApiError } from '../errors.js';

export interface FalsePositiveFilter {
  rule: StoredRule;
  /** The detection rules it applies to. */
  rules: string[];
  selection: Record<string, string>;
}

/** The filter(s) for an incident: one per distinct selection (usually one). */
export function falsePositiveFilters(
  incident: Incident,
  ruleSet: Pick<CompiledRuleSet, 'rules' | 'correlations'>,
  context: { actor: string; reason?: string; at: string },
): FalsePositiveFilter[] {
  const groups = new Map<string, { rules: string[]; selection: Record<string, string> }>();
  const add = (ruleId: string, selection: Record<string, string>) => {
    const key = JSON.stringify(Object.entries(selection).sort());
    const group = groups.get(key);
    if (group) {
      if (!group.rules.includes(ruleId)) group.rules.push(ruleId);
    } else groups.set(key, { rules: [ruleId], selection });
  };
  const correlations = new Map<string, CompiledCorrelation>(
    (ruleSet.correlations ?? []).map((c) => [c.info.id, c]),
  );
  const visit = (ruleId: string, values: Record<string, string>, depth: number) => {
    const correlation = correlations.get(ruleId);
    if (!correlation) {
      if (Object.keys(values).length > 0 && ruleSet.rules.some((rule) => rule.id === ruleId))
        add(ruleId, values);
      return;
    }
    if (depth > 8) return;
    for (const target of correlation.ruleIds) {
      const readers = correlation.groupReaders.get(target) ?? [];
      const mapped: Record<string, string> = {};
      correlation.groupBy.forEach((name, i) => {
        const value = values[name];
        const field = readers[i]?.fields[0];
        if (value !== undefined && field !== undefined) mapped[field] = value;
      });
      if (Object.keys(mapped).length > 0) visit(target, mapped, depth + 1);
    }
  };
  visit(incident.ruleId, incident.groupBy, 0);
  if (groups.size === 0) {
    throw new ApiError(
      422,
      'no_filter_scope',
      Object.keys(incident.groupBy).length === 0
        ? 'the incident has no group-by values to scope a filter to; mark it without a filter'
        : `rule ${incident.ruleId} is not loaded (disabled or deleted); mark it without a filter`,
    );
  }
  return [...groups.values()].map((group, index) => {
    const selection: Record<string, string> = {
      // A province-wide correlation spans agencies: its group-by values alone scope it.
      ...(incident.agency !== 'province' ? { 'agency.id': incident.agency } : {}),
      ...group.selection,
    };
    const id = filterIdOf(incident.id, index);
    const document = {
      title: `False positive: ${incident.title}`.slice(0, 256),
      id,
      description: [
        `Exception created when incident ${incident.id} was marked a false positive by ${context.actor}.`,
        ...(context.reason ? [`Reason: ${context.reason}`] : []),
      ].join('\n'),
      author: context.actor,
      date: context.at.slice(0, 10),
      filter: { rules: group.rules, false_positive: selection, condition: 'not false_positive' },
    };
    return {
      rules: group.rules,
      selection,
      rule: {
        id,
        yaml: stringify(document, { lineWidth: 0 }),
        kind: 'filter',
        enabled: true,
        origin: 'api',
        updatedAt: context.at,
        updatedBy: context.actor,
        agency: incident.agency,
        incidentId: incident.id,
      },
    };
  });
}

/** A stable UUID per incident (and filter index): marking the same incident again replaces its filter. */
function filterIdOf(incidentId: string, index: number): string {
  const h = createHash('sha256').update(`false-positive\0${incidentId}\0${index}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
