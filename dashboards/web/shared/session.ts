/**
 * The API key of this browser tab. It lives in sessionStorage (gone when the tab closes) and travels only in
 * the Authorization header: never in a URL, a cookie, localStorage or a log line.
 */
const KEY_ITEM = 'siem-lite.apiKey';

export function savedKey(): string | undefined {
  return sessionStorage.getItem(KEY_ITEM) ?? undefined;
}

export function saveKey(key: string): void {
  sessionStorage.setItem(KEY_ITEM, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY_ITEM);
}

/** A pasted key, trimmed; undefined when it cannot be a key (`sl_<12 hex>_<secret>`, api/keys.ts). */
export function cleanKey(text: string): string | undefined {
  const key = text.trim().replace(/^Bearer\s+/i, '');
  return /^sl_[0-9a-f]{12}_[A-Za-z0-9_-]{8,}$/.test(key) ? key : undefined;
}
