/**
 * The notify stage: incident changes → outbound webhooks and e-mail, routed by agency and severity, throttled
 * per key so that an alert storm is one message. Deliveries run in the background (a slow receiver never
 * holds a batch); `drain()` waits for them on shutdown.
 */
import { PROVINCE_AGENCY } from '../../core/agencies.js';
import type { Logger } from '../../core/logger.js';
import type { Incident, Severity } from '../../core/model.js';
import type { IncidentChange } from '../../core/ports.js';
import type { EmailMessage } from './email.js';
import type { Throttle } from './throttle.js';
import { deliverWebhook, type RetryPolicy, type WebhookRoute } from './webhook.js';

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
  retry: RetryPolicy;
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
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: NotifierOptions) {}

  /** Decides (and throttles) what to send for each change, then sends in the background. */
  async notify(changes: IncidentChange[]): Promise<void> {
    for (const change of changes) {
      for (const [index, route] of this.options.webhooks.entries())
        await this.toWebhook(index, route, change);
      if (this.options.email) await this.toEmail(this.options.email, change);
    }
  }

  /** Resolves when every delivery started so far has finished (or given up). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
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
    this.background(
      deliverWebhook(route, payloadOf(change), this.options.retry).then(
        () => undefined,
        (error: unknown) =>
          this.options.logger.warn(
            { err: (error as Error).message, incident: incident.id },
            'webhook gave up',
          ),
      ),
    );
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
    this.background(
      email
        .send({ to, ...messageOf(change, suppressed) })
        .catch((error: unknown) =>
          this.options.logger.warn(
            { err: (error as Error).message, incident: incident.id, to },
            'e-mail not sent',
          ),
        ),
    );
  }

  private background(delivery: Promise<void>): void {
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
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
