import { createHash, timingSafeEqual } from 'node:crypto';
import type { AgencyDirectory } from '../../core/agencies.js';

/** Who sent an HTTP ingest request. */
export interface IngestPrincipal {
  agency: string;
  /** `token` (agencies.yaml `ingest_tokens`) or `api-key` (an API key with the ingest role). */
  via: 'token' | 'api-key';
}

/** An API key check supplied by the API (role `ingest` keys name exactly one agency). */
export type ApiKeyVerifier = (
  token: string,
) => Promise<{ role: string; agencies?: string[] } | null | undefined>;

/**
 * The bearer secret of a request, in the three ways shippers send one: `Authorization: Bearer <token>`
 * (curl, Vector, agents), `Basic base64(user:token)` (Fluent Bit `HTTP_User`/`HTTP_Passwd`, Logstash
 * `user`/`password`: the password is the token), `ApiKey base64(id:token)` (Beats and Logstash `api_key`).
 */
export function tokenFromAuthorization(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer') return value || undefined;
  if (scheme === 'basic' || scheme === 'apikey') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const secret = colon < 0 ? decoded : decoded.slice(colon + 1);
    return secret || undefined;
  }
  return undefined;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * Ingest tokens from agencies.yaml: `sha256:<hex>` entries (preferred: the file then holds no secret) or
 * the token itself. Compared in constant time on their SHA-256.
 */
export class IngestTokens {
  private readonly entries: { digest: Buffer; agency: string }[] = [];

  constructor(agencies: AgencyDirectory) {
    for (const agency of agencies.agencies) {
      for (const token of agency.ingest_tokens ?? []) {
        const digest = token.startsWith('sha256:') ? Buffer.from(token.slice(7), 'hex') : sha256(token);
        if (digest.length !== 32)
          throw new Error(`agency ${agency.id}: ingest token ${token.slice(0, 12)}… is not sha256:<64 hex>`);
        this.entries.push({ digest, agency: agency.id });
      }
    }
  }

  agencyOf(token: string): string | undefined {
    const digest = sha256(token);
    let found: string | undefined;
    // Every entry is compared, so the time taken does not say which one matched.
    for (const entry of this.entries) if (timingSafeEqual(entry.digest, digest)) found = entry.agency;
    return found;
  }
}
