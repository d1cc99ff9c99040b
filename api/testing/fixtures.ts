/** Events and incidents for API tests, with the fields triage reads. */
import type { Incident, SecurityEvent } from '../../core/model.js';

export function event(
  id: string,
  agency: string,
  at: string,
  fields: Record<string, unknown> = {},
): SecurityEvent {
  return {
    '@timestamp': at,
    message: `Failed password for root from 203.0.113.5 port 22 (${id})`,
    ...fields,
    event: {
      id,
      ingested: at,
      original: `<38>sshd[42]: Failed password for root from 203.0.113.5 (${id})`,
      action: 'ssh_login',
      outcome: 'failure',
      ...((fields.event as object | undefined) ?? {}),
    },
    agency: { id: agency },
  };
}

export function incident(id: string, agency: string, overrides: Partial<Incident> = {}): Incident {
  const now = new Date().toISOString();
  return {
    id,
    title: `SSH brute force — source.ip 203.0.113.5 (${id})`,
    severity: 'high',
    status: 'new',
    agency,
    assignee: null,
    ruleId: 'ssh-brute-force',
    ruleTitle: 'SSH brute force',
    tactics: ['credential_access'],
    techniques: ['T1110'],
    dedupKey: `${agency}|ssh-brute-force|source.ip=203.0.113.5|${id}`,
    groupBy: { 'source.ip': '203.0.113.5' },
    firstSeen: new Date(Date.now() - 3_600_000).toISOString(),
    lastSeen: now,
    detectionCount: 3,
    evidenceEventIds: [],
    appliedBatches: ['b1'],
    tags: [],
    createdAt: new Date(Date.now() - 3_000_000).toISOString(),
    updatedAt: now,
    timeline: [{ at: now, actor: 'system', action: 'opened' }],
    ...overrides,
  };
}
