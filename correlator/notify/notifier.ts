/**
 * The notify stage: incident changes → outbound webhooks and e-mail, routed by agency and severity, throttled
 * per key so that an alert storm is one message. What to send is decided here and handed to a delivery queue
 * (deliveries.ts: Redis in scale mode, so a killed worker or a receiver that is down loses nothing) before
 * the batch is acknowledged; a slow receiver never holds a batch. `drain()` waits for this process's
 * deliveries on shutdown.
 */
import { randomUUID } from 'node:crypto';
import { PROVINCE_AGENCY } from '../../core/agencies.js';
import type { Logger } from '../../core/logger.js';
import type { Incident, Severity } from '../../core/model.js';
import type { IncidentChange } from '../../core/ports.js';
import {
  type Delivery,
  type DeliveryQueue,
  FinalDeliveryError,
  MemoryDeliveryQueue,
  type RetryPolicy,
} from './deliveries.js';
import type { EmailMessage } from './email.js';
import type { Throttle } from './throttle.js';
import { postWebhook, type WebhookRoute } from './webhook.js';

const RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

export interface WebhookRouting extends WebhookRoute {
  /** Only these agencies' incidents; all when absent. */
  agencies?: string[];
  minSeverity: Severity;
}

export interface EmailRouting {
  send(message: EmailMessage): Promise<void>;
  minSeverity: Severity;
  /** The on-call address for an agency's incidents (or the province SOC's), if any. */
  recipientOf(agency: string): string | undefined;
}

export interface NotifierOptions {
  webhooks: WebhookRouting[];
  email?: EmailRouting;
  throttle: Throttle;
  throttleMs: number;
  /** Used by the in-memory delivery queue made when none is given. */
  retry: RetryPolicy;
  /** Where deliveries wait (default: in memory, retried with `retry`). */
  deliveries?: DeliveryQueue;
  logger: Logger;
}

/** What receivers get: the change and a stable subset of the incident (no internal bookkeeping). */
export function payloadOf(change: IncidentChange) {
  const i = change.incident;
  return {
    kind: change.kind,
    at: change.at,
    actor: change.actor,
    incident: {
      id: i.id,
      title: i.title,
      severity: i.severity,
      status: i.status,
      agency: i.agency,
      ...(i.agencies ? { agencies: i.agencies } : {}),
      ruleId: i.ruleId,
      ruleTitle: i.ruleTitle,
      ...(i.ruleAuthor ? { ruleAuthor: i.ruleAuthor } : {}),
      ...(i.ruleLink ? { ruleLink: i.ruleLink } : {}),
      tactics: i.tactics,
      techniques: i.techniques,
      groupBy: i.groupBy,
      firstSeen: i.firstSeen,
      lastSeen: i.lastSeen,
      detectionCount: i.detectionCount,
      ...(i.escalation ? { escalation: i.escalation } : {}),
      ...(i.previousIncidentId ? { previousIncidentId: i.previousIncidentId } : {}),
    },
  };
}

export class Notifier {
  private readonly deliveries: DeliveryQueue;

  constructor(private readonly options: NotifierOptions) {
    this.deliveries = options.deliveries ?? new MemoryDeliveryQueue(options.retry, options.logger);
    this.deliveries.start((delivery) => this.deliver(delivery));
  }

  /** Decides (and throttles) what to send for each change, then sends in the background. */
  async notify(changes: IncidentChange[]): Promise<void> {
    for (const change of changes) {
      for (const [index, route] of this.options.webhooks.entries())
        await this.toWebhook(index, route, change);
      if (this.options.email) await this.toEmail(this.options.email, change);
    }
  }

  /** Resolves when this process's deliveries have finished (or given up). */
  async drain(): Promise<void> {
    await this.deliveries.drain();
  }

  /** Stops delivering: jobs in progress finish, queued ones stay queued (in Redis) for the next worker. */
  async close(): Promise<void> {
    await this.deliveries.close();
  }

  /** One attempt of one delivery, called by the queue. */
  private async deliver(delivery: Delivery): Promise<void> {
    if (delivery.kind === 'webhook') {
      const route = this.options.webhooks[delivery.route];
      // The configuration changed since it was queued: never send an incident to another receiver.
      if (!route || route.url !== delivery.url) {
        throw new FinalDeliveryError(`webhook route ${delivery.route} is no longer ${delivery.url}`);
      }
      await postWebhook(route, delivery.payload, delivery.id, this.options.retry.timeoutMs);
      return;
    }
    if (!this.options.email) throw new FinalDeliveryError('e-mail is no longer configured');
    await this.options.email.send(delivery.message);
  }

  private async toWebhook(index: number, route: WebhookRouting, change: IncidentChange): Promise<void> {
    const incident = change.incident;
    if (RANK[incident.severity] < RANK[route.minSeverity]) return;
    if (route.agencies && !agenciesOf(incident).some((agency) => route.agencies!.includes(agency))) return;
    // Openings and reopenings always go; a stream of updates to one incident goes once per window.
    if (change.kind === 'updated') {
      const { send } = await this.options.throttle.take(
        `webhook:${index}:${incident.id}`,
        this.options.throttleMs,
      );
      if (!send) return;
    }
    await this.deliveries.enqueue({
      kind: 'webhook',
      id: randomUUID(),
      route: index,
      url: route.url,
      payload: payloadOf(change),
      incidentId: incident.id,
    });
  }

  private async toEmail(email: EmailRouting, change: IncidentChange): Promise<void> {
    const incident = change.incident;
    if (RANK[incident.severity] < RANK[email.minSeverity]) return;
    const escalatedNow = change.kind === 'updated' && incident.escalation?.at === incident.updatedAt;
    if (change.kind !== 'opened' && change.kind !== 'reopened' && !escalatedNow) return;
    const to = email.recipientOf(incident.agency);
    if (!to) {
      this.options.logger.debug({ agency: incident.agency }, 'no on-call address: e-mail not sent');
      return;
    }
    const { send, suppressed } = await this.options.throttle.take(
      `email:${incident.agency}:${incident.ruleId}`,
      this.options.throttleMs,
    );
    if (!send) return;
    await this.deliveries.enqueue({
      kind: 'email',
      id: randomUUID(),
      message: { to, ...messageOf(change, suppressed) },
      incidentId: incident.id,
    });
  }
}

function agenciesOf(incident: Incident): string[] {
  return incident.agencies ? [incident.agency, ...incident.agencies] : [incident.agency];
}

export function messageOf(change: IncidentChange, suppressed: number): { subject: string; text: string } {
  const i = change.incident;
  const what =
    change.kind === 'opened'
      ? 'new incident'
      : change.kind === 'reopened'
        ? 'incident reopened'
        : 'incident escalated';
  const lines = [
    `${what}: ${i.title}`,
    '',
    `Severity:    ${i.severity.toUpperCase()}${i.escalation ? ` (raised from ${i.escalation.from}: ${i.escalation.rules.length} rules on ${i.escalation.entity})` : ''}`,
    `Agency:      ${i.agency === PROVINCE_AGENCY && i.agencies ? `province-wide (${i.agencies.join(', ')})` : i.agency}`,
    `Rule:        ${i.ruleTitle}${i.ruleLink ? ` — ${i.ruleLink}` : ''}`,
    `ATT&CK:      ${[...i.tactics, ...i.techniques].join(', ') || '—'}`,
    `Seen:        ${i.firstSeen} → ${i.lastSeen} (${i.detectionCount} detections)`,
    `Entity:      ${
      Object.entries(i.groupBy)
        .map(([field, value]) => `${field}=${value}`)
        .join(', ') || '—'
    }`,
    `Incident id: ${i.id}`,
  ];
  if (suppressed > 0)
    lines.push('', `${suppressed} similar notification(s) held back since the last message.`);
  return {
    subject: `[siem-lite] ${i.severity.toUpperCase()} ${what}: ${i.title}`,
    text: `${lines.join('\n')}\n`,
  };
}
