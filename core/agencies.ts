import { readFileSync } from 'node:fs';
import ipaddr from 'ipaddr.js';
import { parse } from 'yaml';

/** An agency of the province that sends logs: a department, a district or town, or a portal. */
export interface Agency {
  id: string;
  name_vi: string;
  name_en: string;
  kind: 'department' | 'district' | 'portal' | 'provincial';
  /** Address ranges its devices send from. */
  cidrs: string[];
  /** IANA zone for sources that omit one (RFC 3164). */
  timezone?: string;
  /** TLS client-certificate subjects (`CN=...` or the full DN) that identify this agency's senders. */
  tls_subjects?: string[];
  /** HTTP ingest tokens: `sha256:<hex>` of the token (preferred), or the token itself. */
  ingest_tokens?: string[];
  /** Where high and critical incidents are e-mailed (the agency's on-call address). */
  oncall_email?: string;
}

/** Agency id given to records whose source matches no agency: they are kept and marked, never dropped. */
export const UNKNOWN_AGENCY = 'unknown';

/**
 * Agency id of an incident built from several agencies' events (a correlation across agencies, e.g. one
 * password spray against many departments): the province SOC's; the agencies involved are listed with it.
 */
export const PROVINCE_AGENCY = 'province';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

export class AgencyDirectory {
  private readonly ranges: { range: Range; agency: Agency }[] = [];
  private readonly byId = new Map<string, Agency>();

  constructor(readonly agencies: Agency[]) {
    for (const agency of agencies) {
      if (this.byId.has(agency.id)) throw new Error(`duplicate agency id ${agency.id}`);
      this.byId.set(agency.id, agency);
      for (const cidr of agency.cidrs) this.ranges.push({ range: ipaddr.parseCIDR(cidr), agency });
    }
    // Most specific range first, so a /24 carved out of a /16 wins.
    this.ranges.sort((a, b) => b.range[1] - a.range[1]);
  }

  static fromFile(path: string): AgencyDirectory {
    const doc = parse(readFileSync(path, 'utf8')) as { agencies?: Agency[] } | null;
    if (!doc || !Array.isArray(doc.agencies))
      throw new Error(`${path}: expected a top-level "agencies" list`);
    return new AgencyDirectory(doc.agencies);
  }

  get(id: string): Agency | undefined {
    return this.byId.get(id);
  }

  /** The agency whose ranges contain `address` (IPv4, IPv6 or IPv4-mapped IPv6), if any. */
  byAddress(address: string): Agency | undefined {
    if (!ipaddr.isValid(address)) return undefined;
    let ip = ipaddr.parse(address);
    if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress())
      ip = (ip as ipaddr.IPv6).toIPv4Address();
    for (const { range, agency } of this.ranges) {
      if (range[0].kind() === ip.kind() && ip.match(range)) return agency;
    }
    return undefined;
  }
}
