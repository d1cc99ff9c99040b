import { Type as T, type TSchema } from '@sinclair/typebox';
import { INCIDENT_STATUSES } from '../core/model.js';

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

const errorRef = T.Ref('Error');
/** The error responses every authenticated route can give. */
export const AUTH_ERRORS = { 400: errorRef, 401: errorRef, 403: errorRef } as const;

export const StatusSchema = T.Union(INCIDENT_STATUSES.map((status) => T.Literal(status)));
export const SeveritySchema = T.Union(['low', 'medium', 'high', 'critical'].map((s) => T.Literal(s)));

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
  },
  { $id: 'Incident' },
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
  { $id: 'Event', additionalProperties: true },
);

export function page<S extends TSchema>(items: S, name: string) {
  return T.Object({ total: T.Integer(), [name]: T.Array(items), next: T.Optional(T.String()) });
}
