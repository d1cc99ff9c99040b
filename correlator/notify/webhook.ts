/**
 * Outbound webhooks: one JSON POST per notification, signed so the receiver can trust it:
 *   X-Siem-Timestamp: <epoch ms>
 *   X-Siem-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the route's secret>
 *   X-Siem-Delivery:  <unique id; the same on every retry, so a receiver can drop duplicates>
 * One attempt here; the delivery queue (deliveries.ts) retries with exponential backoff on network errors,
 * 5xx, 408 and 429. Other 4xx are final.
 */
import { createHmac } from 'node:crypto';
import { FinalDeliveryError } from './deliveries.js';

export interface WebhookRoute {
  url: string;
  secret?: string;
}

export function signatureOf(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** POSTs the payload once: resolves on a 2xx, throws (FinalDeliveryError when retrying cannot help). */
export async function postWebhook(
  route: WebhookRoute,
  payload: unknown,
  deliveryId: string,
  timeoutMs = 10_000,
): Promise<void> {
  const body = JSON.stringify(payload);
  const timestamp = String(Date.now());
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'siem-lite-webhook',
    'x-siem-delivery': deliveryId,
    'x-siem-timestamp': timestamp,
  };
  if (route.secret) headers['x-siem-signature'] = signatureOf(route.secret, timestamp, body);
  const response = await fetch(route.url, {
    method: 'POST',
    headers,
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  await response.arrayBuffer().catch(() => undefined);
  if (response.ok) return;
  const message = `webhook ${route.url}: HTTP ${response.status}`;
  const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
  throw retryable ? new Error(message) : new FinalDeliveryError(message);
}
