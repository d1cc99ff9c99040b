import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { AuditEntry, AuditLog } from '../core/ports.js';

export interface AuditRecord {
  action: string;
  targetType: string;
  targetId: string;
  agency?: string;
  before?: unknown;
  after?: unknown;
}

/** Writes one audit entry per mutation: the caller, the request id and the state before and after. */
export class Auditor {
  constructor(readonly log: AuditLog) {}

  entry(request: FastifyRequest, record: AuditRecord): AuditEntry {
    return {
      id: randomUUID(),
      at: new Date().toISOString(),
      actor: request.principal?.name ?? 'anonymous',
      ...(request.principal ? { actorKeyId: request.principal.keyId } : {}),
      action: record.action,
      targetType: record.targetType,
      targetId: record.targetId,
      ...(record.agency !== undefined ? { agency: record.agency } : {}),
      ...(record.before !== undefined ? { before: record.before } : {}),
      ...(record.after !== undefined ? { after: record.after } : {}),
      requestId: request.id,
    };
  }

  async record(request: FastifyRequest, ...records: AuditRecord[]): Promise<void> {
    await this.log.append(records.map((record) => this.entry(request, record)));
  }
}
