/**
 * `siem-lite rules test <rule-or-dir...> <events-file>`: which events match which rules, and why.
 *
 * The events file holds events as a source would send them — raw syslog lines or JSON records, one per line
 * (or a JSON array) — and they go through the real normaliser; with `--ecs` they are ECS events already;
 * with `--no-pipeline` they are flat events matched with the rules' own field names (as conformance suites
 * write them). Correlation rules in the set are evaluated over the events in event-time order with the
 * reference evaluator. Exit 0 when everything loaded, 1 when a rule or an event could not be used, 2 on a
 * usage error.
 *
 * `--json`: one object per hit, `{"rule", "title", "event", "selections"}` (for a correlation,
 * `"event"` is the index of the event that completed it, plus `"correlation": true`, `"events"`,
 * `"groupBy"`, `"value"`), then `{"summary": {"rules", "events", "matches", "errors"}}`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { AgencyDirectory } from '../../core/agencies.js';
import type { RawRecord, SecurityEvent } from '../../core/model.js';
import { createNormaliser } from '../../ingest/normalise.js';
import { evaluateCorrelations, type RuleHit } from '../correlation/evaluate.js';
import { loadRuleSet, NO_PIPELINE } from '../index.js';
import type { RuleProblem } from '../load.js';
import { expandDottedKeys } from '../matcher/event-view.js';
import { type CliResult, formatProblem } from './check.js';

export interface RulesTestArgs {
  /** Rule files or folders. */
  rules: string[];
  /** The events file. */
  events: string;
  json?: boolean;
  /** Events are ECS documents already (skip the normaliser). */
  ecs?: boolean;
  /** Events are flat and rules match their field names as written (no pipeline, no normaliser). */
  noPipeline?: boolean;
  /** Extra pipeline files or folders. */
  pipelines?: string[];
}

export interface RulesTestDeps {
  /** The normaliser for raw events; defaults to ingest's, with no agencies and UTC. */
  normalise?: (records: RawRecord[]) => SecurityEvent[];
}

interface Hit {
  rule: string;
  title: string;
  event: number;
  selections?: string[];
  correlation?: true;
  events?: number[];
  groupBy?: Record<string, string>;
  value?: number;
}

export function rulesTest(args: RulesTestArgs, deps: RulesTestDeps = {}): CliResult {
  const usage = (message: string): CliResult => ({
    exitCode: 2,
    lines: [args.json ? JSON.stringify({ error: message }) : `rules test: ${message}`],
  });
  if (args.rules.length === 0) return usage('no rule file or folder given');
  const missing = [...args.rules, args.events].filter((p) => !existsSync(p));
  if (missing.length > 0) return usage(`no such file or folder: ${missing.join(', ')}`);

  const { ruleSet, problems } = loadRuleSet({
    packs: args.rules,
    ...(args.noPipeline ? { pipeline: NO_PIPELINE } : {}),
    ...(args.pipelines ? { pipelines: args.pipelines } : {}),
  });
  const errors: RuleProblem[] = [...problems];
  const events = readEvents(args, deps, errors);

  const hits: Hit[] = [];
  const ruleHits: RuleHit<number>[] = [];
  events.forEach((event, index) => {
    for (const { rule } of ruleSet.match(event)) {
      hits.push({
        rule: rule.id,
        title: rule.title,
        event: index,
        selections: ruleSet.explain(rule.id, event),
      });
      ruleHits.push({ ruleId: rule.id, event, time: eventTime(event), ref: index });
    }
  });
  for (const fired of evaluateCorrelations(ruleSet.correlations, ruleHits)) {
    hits.push({
      rule: fired.rule.id,
      title: fired.rule.title,
      event: fired.completedBy,
      correlation: true,
      events: [...new Set(fired.refs)],
      groupBy: fired.groupBy,
      value: fired.value,
    });
  }
  hits.sort((a, b) => a.event - b.event);

  const summary = {
    rules: ruleSet.rules.length + ruleSet.correlations.length,
    events: events.length,
    matches: hits.length,
    errors: errors.length,
  };
  const lines = args.json
    ? [
        ...errors.map((e) => JSON.stringify({ error: e })),
        ...hits.map((h) => JSON.stringify(h)),
        JSON.stringify({ summary }),
      ]
    : [
        ...errors.map(formatProblem),
        ...hits.map((h) =>
          h.correlation
            ? `event ${h.event}: ${h.title} [${h.rule}] — correlation of events ${h.events!.join(', ')} (${Object.entries(
                h.groupBy!,
              )
                .map(([k, v]) => `${k}=${v}`)
                .join(', ')}; value ${h.value})`
            : `event ${h.event}: ${h.title} [${h.rule}] — ${h.selections!.length > 0 ? `selections ${h.selections!.join(', ')}` : 'condition holds'}`,
        ),
        `${summary.rules} rules, ${summary.events} events, ${summary.matches} matches, ${summary.errors} errors`,
      ];
  return { exitCode: errors.length > 0 ? 1 : 0, lines };
}

function readEvents(args: RulesTestArgs, deps: RulesTestDeps, errors: RuleProblem[]): SecurityEvent[] {
  const text = readFileSync(args.events, 'utf8');
  const structured = args.ecs || args.noPipeline;
  const trimmed = text.trimStart();
  // A JSON array holds one event (or record) per element; otherwise one per non-empty line.
  let items: { value: unknown; line: number }[];
  if (trimmed.startsWith('[')) {
    try {
      items = (JSON.parse(text) as unknown[]).map((value, i) => ({ value, line: i + 1 }));
    } catch (error) {
      errors.push({ file: args.events, message: `not a JSON array: ${(error as Error).message}` });
      return [];
    }
    if (!structured) items = items.map(({ value, line }) => ({ value: JSON.stringify(value), line }));
  } else {
    items = [];
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() !== '') items.push({ value: line, line: i + 1 });
    });
  }
  if (structured) {
    const events: SecurityEvent[] = [];
    for (const { value, line } of items) {
      let parsed = value;
      if (typeof value === 'string') {
        try {
          parsed = JSON.parse(value);
        } catch (error) {
          errors.push({ file: args.events, line, message: `not JSON: ${(error as Error).message}` });
          continue;
        }
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        errors.push({ file: args.events, line, message: 'an event must be a JSON object' });
        continue;
      }
      events.push(expandDottedKeys(parsed) as SecurityEvent);
    }
    return events;
  }
  const normalise =
    deps.normalise ?? createNormaliser({ agencies: new AgencyDirectory([]), defaultTimezone: 'UTC' });
  const now = Date.now();
  const records: RawRecord[] = items.map(({ value }, i) => ({
    text: String(value),
    receivedAt: now,
    transport: 'file',
    peer: '',
    listener: 'rules-test',
    seq: i,
  }));
  return normalise(records);
}

/** Event time for correlation windows: `@timestamp`, else the file order (all at one instant). */
function eventTime(event: SecurityEvent): number {
  const time = Date.parse(String(event['@timestamp'] ?? ''));
  return Number.isNaN(time) ? 0 : time;
}
