import { Type as T, type TSchema } from '@sinclair/typebox';
import { INCIDENT_LIST_FIELDS, INCIDENT_STATUSES } from '../core/model.js';

/** Schemas shared by routes; they validate requests, shape responses and feed the OpenAPI document. */

export const ErrorSchema = T.Object(
  {
    error: T.Object({
      code: T.String({ examples: ['invalid_request'] }),
      message: T.String(),
      details: T.Optional(T.Unknown()),
      requestId: T.String(),
    }),
  },
  { $id: 'Error', description: 'Every 4xx/5xx answer: a machine-readable code and a human message.' },
);

export const errorRef = T.Ref('Error');
/** The error responses every authenticated route can give. */
export const AUTH_ERRORS = { 400: errorRef, 401: errorRef, 403: errorRef, 429: errorRef } as const;
/** Plus "not found" (also what another agency's object answers). */
export const READ_ERRORS = { ...AUTH_ERRORS, 404: errorRef } as const;
/** Plus the write conflicts: 409 (stale version, with the current state), 422 (a rule the change breaks). */
export const WRITE_ERRORS = { ...READ_ERRORS, 409: errorRef, 422: errorRef } as const;

/** An ISO 8601 time, as query parameter or body field. */
export const Time = (description?: string) =>
  T.String({
    format: 'date-time',
    ...(description ? { description } : {}),
    examples: ['2025-03-01T00:00:00Z'],
  });
/** Identifiers in paths and bodies: bounded, printable. */
export const Id = (description = 'id') =>
  T.String({ minLength: 1, maxLength: 200, pattern: '^[^\\s/]+$', description });
/** Agency ids. */
export const AgencyId = T.String({
  minLength: 1,
  maxLength: 100,
  pattern: '^[A-Za-z0-9_.-]+$',
  examples: ['so-tttt'],
});

export const StatusSchema = T.Union(INCIDENT_STATUSES.map((status) => T.Literal(status)));
export const SeveritySchema = T.Union([
  T.Literal('low'),
  T.Literal('medium'),
  T.Literal('high'),
  T.Literal('critical'),
]);

/** The OpenAPI example of an incident; the list item's example is its list fields. */
const INCIDENT_EXAMPLE = {
  id: '5f1c0e2a9b7d4c11',
  title: 'SSH brute force — source.ip 203.0.113.5',
  severity: 'high',
  status: 'acknowledged',
  agency: 'so-tttt',
  assignee: 'an.nguyen',
  ruleId: 'b5a1f6e2-ssh-brute-force',
  ruleTitle: 'SSH brute force',
  tactics: ['credential_access'],
  techniques: ['T1110'],
  dedupKey: 'so-tttt|b5a1f6e2-ssh-brute-force|source.ip=203.0.113.5',
  groupBy: { 'source.ip': '203.0.113.5' },
  firstSeen: '2025-03-01T02:10:00.000Z',
  lastSeen: '2025-03-01T02:14:40.000Z',
  detectionCount: 30,
  evidenceEventIds: ['9c0f…'],
  tags: [],
  createdAt: '2025-03-01T02:10:01.000Z',
  updatedAt: '2025-03-01T02:20:00.000Z',
  timeline: [{ at: '2025-03-01T02:10:01.000Z', actor: 'system', action: 'opened' }],
  acknowledgedAt: '2025-03-01T02:20:00.000Z',
  timeToAcknowledgeMs: 599000,
};

export const IncidentSchema = T.Object(
  {
    id: T.String(),
    title: T.String(),
    severity: SeveritySchema,
    status: StatusSchema,
    agency: T.String(),
    assignee: T.Union([T.String(), T.Null()]),
    ruleId: T.String(),
    ruleTitle: T.String(),
    ruleAuthor: T.Optional(T.String()),
    ruleLink: T.Optional(T.String()),
    tactics: T.Array(T.String()),
    techniques: T.Array(T.String()),
    dedupKey: T.String(),
    groupBy: T.Record(T.String(), T.String()),
    firstSeen: T.String({ format: 'date-time' }),
    lastSeen: T.String({ format: 'date-time' }),
    detectionCount: T.Integer(),
    evidenceEventIds: T.Array(T.String()),
    tags: T.Array(T.String()),
    createdAt: T.String({ format: 'date-time' }),
    updatedAt: T.String({ format: 'date-time' }),
    timeline: T.Array(
      T.Object({
        at: T.String(),
        actor: T.String(),
        action: T.String(),
        detail: T.Optional(T.Record(T.String(), T.Unknown())),
      }),
    ),
    notes: T.Optional(
      T.Array(T.Object({ id: T.String(), at: T.String(), author: T.String(), text: T.String() })),
    ),
    acknowledgedAt: T.Optional(T.String({ format: 'date-time' })),
    closedAt: T.Optional(T.String({ format: 'date-time' })),
    timeToAcknowledgeMs: T.Optional(T.Integer({ description: 'acknowledgedAt − createdAt' })),
    timeToResolveMs: T.Optional(T.Integer({ description: 'closedAt − createdAt' })),
    mergedInto: T.Optional(T.String()),
    linkedDetectionIds: T.Optional(
      T.Array(T.String(), {
        description: 'correlation incidents: the detections that built them (the chain)',
      }),
    ),
    agencies: T.Optional(
      T.Array(T.String(), {
        description: 'correlations across agencies (agency is then `province`): who took part',
      }),
    ),
    previousIncidentId: T.Optional(
      T.String({ description: 'the incident this one follows (a recurrence after resolution)' }),
    ),
    escalation: T.Optional(
      T.Object(
        { at: T.String(), entity: T.String(), rules: T.Array(T.String()), from: SeveritySchema },
        { description: 'severity raised because several rules hit the same entity' },
      ),
    ),
  },
  {
    $id: 'Incident',
    examples: [INCIDENT_EXAMPLE],
  },
);

/**
 * An incident in a list (`GET /api/incidents`): the fields a triage table shows, filters, sorts or links on,
 * and the version to PATCH with. Not the timeline, notes, evidence or detection ids (docs/api.md).
 */
export const IncidentListItemSchema = T.Composite(
  [
    T.Pick(IncidentSchema, [...INCIDENT_LIST_FIELDS]),
    T.Object({ version: T.String({ description: 'the stored version: send it back with PATCH' }) }),
  ],
  {
    $id: 'IncidentListItem',
    examples: [
      {
        ...Object.fromEntries(
          INCIDENT_LIST_FIELDS.filter((field) => field in INCIDENT_EXAMPLE).map((field) => [
            field,
            INCIDENT_EXAMPLE[field as keyof typeof INCIDENT_EXAMPLE],
          ]),
        ),
        version: '4',
      },
    ],
  },
);

export const DetectionSchema = T.Object(
  {
    id: T.String(),
    ruleId: T.String(),
    ruleTitle: T.String(),
    level: T.String(),
    tags: T.Array(T.String()),
    author: T.Optional(T.String()),
    ruleLink: T.Optional(T.String()),
    eventIds: T.Array(T.String()),
    groupBy: T.Record(T.String(), T.String()),
    agency: T.String(),
    timestamp: T.String(),
    batchId: T.String(),
  },
  { $id: 'Detection' },
);

/** An ECS event: open-ended by nature; the documented fields are those every event has. */
export const EventSchema = T.Object(
  {
    '@timestamp': T.String(),
    message: T.Optional(T.String()),
    event: T.Object(
      { id: T.String(), original: T.String(), ingested: T.String() },
      { additionalProperties: true },
    ),
    agency: T.Object({ id: T.String() }),
  },
  {
    $id: 'Event',
    additionalProperties: true,
    examples: [
      {
        '@timestamp': '2025-03-01T02:14:40.000Z',
        message: 'Failed password for root from 203.0.113.5 port 40022 ssh2',
        event: {
          id: 'qk3M1v0cQ2yq7x9Lr5bT0A',
          ingested: '2025-03-01T02:14:40.120Z',
          original:
            '<38>1 2025-03-01T09:14:40+07:00 web01 sshd 4242 - - Failed password for root from 203.0.113.5 port 40022 ssh2',
          action: 'ssh_login',
          outcome: 'failure',
          dataset: 'system.auth',
        },
        agency: { id: 'so-tttt' },
        host: { hostname: 'web01' },
        source: { ip: '203.0.113.5', port: 40022 },
        user: { name: 'root' },
        process: { name: 'sshd', pid: 4242 },
      },
    ],
  },
);

export function page<S extends TSchema>(items: S, name: string) {
  return T.Object({ total: T.Integer(), [name]: T.Array(items), next: T.Optional(T.String()) });
}
