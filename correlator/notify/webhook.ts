/**
 * Outbound webhooks: one JSON POST per notification, signed so the receiver can trust it:
 *   X-Siem-Timestamp: <epoch ms>
 *   X-Siem-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the route's secret>
 *   X-Siem-Delivery:  <unique id; the same on every retry, so a receiver can drop duplicates>
 * Retried with exponential backoff on network errors, 5xx, 408 and 429; other 4xx are final.
 */
import { createHmac, randomUUID } from 'node:crypto';

export interface WebhookRoute {
  url: string;
  secret?: string;
}

export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
  /** Per attempt. */
  timeoutMs?: number;
}

export function signatureOf(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class WebhookDeliveryError extends Error {}

/** Delivers one payload; resolves after a 2xx, rejects after the last attempt. */
export async function deliverWebhook(
  route: WebhookRoute,
  payload: unknown,
  retry: RetryPolicy,
): Promise<number> {
  const body = JSON.stringify(payload);
  const delivery = randomUUID();
  let lastError = '';
  for (let attempt = 1; attempt <= retry.attempts; attempt++) {
    const timestamp = String(Date.now());
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'siem-lite-webhook',
      'x-siem-delivery': delivery,
      'x-siem-timestamp': timestamp,
    };
    if (route.secret) headers['x-siem-signature'] = signatureOf(route.secret, timestamp, body);
    try {
      const response = await fetch(route.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(retry.timeoutMs ?? 10_000),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return attempt;
      lastError = `HTTP ${response.status}`;
      const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
      if (!retryable) break;
    } catch (error) {
      lastError = (error as Error).message;
    }
    if (attempt < retry.attempts) {
      await new Promise((resolve) => setTimeout(resolve, retry.backoffMs * 2 ** (attempt - 1)));
    }
  }
  throw new WebhookDeliveryError(`webhook ${route.url}: ${lastError}`);
}
