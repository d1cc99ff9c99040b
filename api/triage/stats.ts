/** MTTA/MTTR and open counts per agency and severity, with province-wide totals. */
import { Type as T } from '@sinclair/typebox';
import type { Severity } from '../../core/model.js';
import type { IncidentCell, IncidentQueries } from '../../core/ports.js';

const Cell = T.Object({
  count: T.Integer(),
  acknowledged: T.Integer(),
  meanTimeToAcknowledgeMs: T.Union([T.Integer(), T.Null()]),
  closed: T.Integer(),
  meanTimeToResolveMs: T.Union([T.Integer(), T.Null()]),
});

export const IncidentStatsSchema = T.Object(
  {
    from: T.String(),
    to: T.String(),
    open: T.Array(T.Object({ agency: T.String(), severity: T.String(), count: T.Integer() })),
    bySeverity: T.Record(T.String(), Cell),
    byAgency: T.Array(T.Intersect([T.Object({ agency: T.String(), severity: T.String() }), Cell])),
    total: Cell,
  },
  {
    $id: 'IncidentStats',
    examples: [
      {
        from: '2025-02-01T00:00:00.000Z',
        to: '2025-03-01T00:00:00.000Z',
        open: [{ agency: 'so-tttt', severity: 'high', count: 2 }],
        bySeverity: {
          high: {
            count: 9,
            acknowledged: 8,
            meanTimeToAcknowledgeMs: 540000,
            closed: 7,
            meanTimeToResolveMs: 7200000,
          },
        },
        byAgency: [
          {
            agency: 'so-tttt',
            severity: 'high',
            count: 9,
            acknowledged: 8,
            meanTimeToAcknowledgeMs: 540000,
            closed: 7,
            meanTimeToResolveMs: 7200000,
          },
        ],
        total: {
          count: 9,
          acknowledged: 8,
          meanTimeToAcknowledgeMs: 540000,
          closed: 7,
          meanTimeToResolveMs: 7200000,
        },
      },
    ],
  },
);

/** Combines cells: counts add, means are weighted by how many incidents each mean is over. */
export function combineCells(cells: IncidentCell[]): Omit<IncidentCell, 'agency' | 'severity'> {
  let count = 0;
  let acknowledged = 0;
  let closed = 0;
  let ackSum = 0;
  let resolveSum = 0;
  for (const cell of cells) {
    count += cell.count;
    acknowledged += cell.acknowledged;
    closed += cell.closed;
    ackSum += (cell.meanTimeToAcknowledgeMs ?? 0) * cell.acknowledged;
    resolveSum += (cell.meanTimeToResolveMs ?? 0) * cell.closed;
  }
  return {
    count,
    acknowledged,
    meanTimeToAcknowledgeMs: acknowledged ? Math.round(ackSum / acknowledged) : null,
    closed,
    meanTimeToResolveMs: closed ? Math.round(resolveSum / closed) : null,
  };
}

export async function summarizeStats(
  queries: IncidentQueries,
  agencies: string[] | undefined,
  from: string,
  to: string,
) {
  const summary = await queries.summarize({
    ...(agencies ? { agencies } : {}),
    from,
    to,
    bucketMs: Date.parse(to) - Date.parse(from),
  });
  const bySeverity: Record<string, ReturnType<typeof combineCells>> = {};
  for (const severity of ['critical', 'high', 'medium', 'low'] as Severity[]) {
    bySeverity[severity] = combineCells(summary.created.filter((cell) => cell.severity === severity));
  }
  return {
    from,
    to,
    open: summary.open,
    bySeverity,
    byAgency: summary.created,
    total: combineCells(summary.created),
  };
}
