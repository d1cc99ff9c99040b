/** Incidents as CSV (RFC 4180), safe to open in a spreadsheet. */
import type { Incident } from '../../core/model.js';

const COLUMNS: [string, (incident: Incident) => unknown][] = [
  ['id', (i) => i.id],
  ['title', (i) => i.title],
  ['severity', (i) => i.severity],
  ['status', (i) => i.status],
  ['agency', (i) => i.agency],
  ['assignee', (i) => i.assignee ?? ''],
  ['rule_id', (i) => i.ruleId],
  ['rule_title', (i) => i.ruleTitle],
  ['tactics', (i) => i.tactics.join(' ')],
  ['techniques', (i) => i.techniques.join(' ')],
  ['tags', (i) => i.tags.join(' ')],
  ['first_seen', (i) => i.firstSeen],
  ['last_seen', (i) => i.lastSeen],
  ['detections', (i) => i.detectionCount],
  ['created_at', (i) => i.createdAt],
  ['acknowledged_at', (i) => i.acknowledgedAt ?? ''],
  ['closed_at', (i) => i.closedAt ?? ''],
  ['time_to_acknowledge_ms', (i) => i.timeToAcknowledgeMs ?? ''],
  ['time_to_resolve_ms', (i) => i.timeToResolveMs ?? ''],
  ['merged_into', (i) => i.mergedInto ?? ''],
];

/**
 * A cell: quoted when needed; text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR)
 * is prefixed with `'` (log data is attacker-controlled: an incident title can carry `=HYPERLINK(...)`).
 */
export function csvCell(value: unknown): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function incidentsCsv(incidents: Incident[]): string {
  const lines = [COLUMNS.map(([name]) => name).join(',')];
  for (const incident of incidents) lines.push(COLUMNS.map(([, get]) => csvCell(get(incident))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
