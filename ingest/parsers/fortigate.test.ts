import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgencyDirectory } from '../../core/agencies.js';
import type { EcsEvent } from '../ecs.js';
import { createNormaliser } from '../normalise.js';

const normalise = createNormaliser({
  agencies: AgencyDirectory.fromFile(resolve('fixtures/agencies/hau-giang.yaml')),
  defaultTimezone: 'Asia/Ho_Chi_Minh',
  clockSkewMs: 365 * 86_400_000,
});
const HEAD = '<189>date=2024-06-15 time=19:30:01 devname="FG100F" devid="FG100FTK20001234"';

function event(line: string): EcsEvent {
  const [result] = normalise([
    {
      text: line,
      receivedAt: Date.parse('2024-06-15T12:30:00Z'),
      transport: 'udp',
      peer: '10.93.2.10:514',
      listener: 'l',
      seq: 0,
    },
  ]);
  return result as EcsEvent;
}

describe('FortiGate parser: the general case beyond the fixtures', () => {
  it('keeps quoted values with spaces and `=` inside whole, and reads the keys after them', () => {
    const e = event(
      `${HEAD} logid="0100032001" type="event" subtype="system" level="information" msg="User admin changed setting a=b in vdom root, action=logout" logdesc="Admin login successful" user="admin" ui="ssh(10.93.2.5)" action="login" status="success"`,
    );
    expect(e.message).toBe('User admin changed setting a=b in vdom root, action=logout');
    expect(e.event.action).toBe('login');
    expect(e.event.outcome).toBe('success');
    expect(e.source?.ip).toBe('10.93.2.5');
    const spaced = event(
      `${HEAD} logid="0000000013" type="traffic" subtype="forward" policyname="Cho phép = LAN ra Internet" srcip=10.0.0.1 dstip=10.0.0.2 action="accept"`,
    );
    expect(spaced.rule).toEqual({ name: 'Cho phép = LAN ra Internet' });
    expect(spaced.source?.ip).toBe('10.0.0.1');
    expect(spaced.event.type).toEqual(['connection', 'end', 'allowed']);
  });

  it('treats empty values as set but empty: no fallback to remip, no empty names', () => {
    const e = event(
      `<189>date=2024-06-15 time=19:30:01 devname="" devid= logid="0000000013" type="traffic" subtype="forward" srcip="" remip=203.0.113.9 srcport= dstip=10.0.0.2 dstport="" srcintf="" user="" service="" action=""`,
    );
    expect(e.observer).toEqual({ vendor: 'Fortinet', product: 'FortiGate', type: 'firewall' });
    expect(e.source).toBeUndefined();
    expect(e.destination).toEqual({ ip: '10.0.0.2' });
    expect(e.user).toBeUndefined();
    expect(e.network).toBeUndefined();
    expect(e.event.action).toBe('');
    expect(e.fortinet).toEqual({ firewall: { type: 'traffic', subtype: 'forward', service: '' } });
  });

  it('reads ports and byte counts only when they are non-negative integers', () => {
    const e = event(
      `${HEAD} logid="0000000013" type="traffic" srcip=10.0.0.1 srcport=abc dstip=10.0.0.2 dstport="443" sentbyte=-5 rcvdbyte=12345678901234567 sentpkt=007 transip=113.161.10.2 transport=99999`,
    );
    expect(e.source).toEqual({ ip: '10.0.0.1', packets: 7, nat: { ip: '113.161.10.2', port: 99999 } });
    expect(e.destination).toEqual({ ip: '10.0.0.2', port: 443 });
    // Neither byte count is a safe non-negative integer: no network.bytes, and so no network at all.
    expect(e.network).toBeUndefined();
  });

  it('reads eventtime in s, ms, µs and ns, cutting to the millisecond (never into the next second)', () => {
    const at = (eventtime: string) =>
      event(`${HEAD} eventtime=${eventtime} logid="1" type="traffic"`)['@timestamp'];
    expect(at('1718454601')).toBe('2024-06-15T12:30:01.000Z');
    expect(at('1718454601123')).toBe('2024-06-15T12:30:01.123Z');
    expect(at('1718454601123999')).toBe('2024-06-15T12:30:01.123Z');
    // 19 digits do not fit a double: rounding first made this 12:30:02.000.
    expect(at('1718454601999999999')).toBe('2024-06-15T12:30:01.999Z');
    // Not digits, or too many: date + time in the source's zone.
    expect(at('17184546O1')).toBe('2024-06-15T12:30:01.000Z');
    expect(at('17184546011234567890')).toBe('2024-06-15T12:30:01.000Z');
  });

  it('maps utm and event types, and an unknown utm subtype (even `constructor`) to network', () => {
    const web = event(
      `${HEAD} logid="0316013056" type="utm" subtype="webfilter" action="blocked" hostname="bet88.example" url="https://bet88.example/a/b?c=d" catdesc="Gambling" srcip=10.93.2.44 dstip=104.16.1.1 qname="x.example" qtype="A"`,
    );
    expect(web.event).toMatchObject({ category: ['network', 'web'], type: ['denied'], action: 'blocked' });
    expect(web.url).toEqual({
      domain: 'bet88.example',
      original: 'https://bet88.example/a/b?c=d',
      scheme: 'https',
      path: '/a/b',
      query: 'c=d',
    });
    expect(web.dns).toEqual({ question: { name: 'x.example', type: 'A' } });
    expect((web.fortinet as { firewall: Record<string, string> }).firewall.catdesc).toBe('Gambling');
    for (const subtype of ['constructor', 'toString', '__proto__', 'new-kind']) {
      const odd = event(`${HEAD} logid="1" type="utm" subtype="${subtype}" action="pass"`);
      expect(odd.event.category, subtype).toEqual(['network']);
      expect(odd.event.type).toEqual(['info']);
    }
    const vpn = event(
      `${HEAD} logid="0101039426" type="event" subtype="vpn" action="ssl-login-fail" remip=203.0.113.77 remport=443 user="tranthib" reason="denied"`,
    );
    expect(vpn.event).toMatchObject({ category: ['authentication'], type: ['start'], outcome: 'failure' });
    expect(vpn.source).toEqual({ ip: '203.0.113.77', port: 443 });
    expect(vpn.user).toEqual({ name: 'tranthib' });
    const config = event(
      `${HEAD} logid="0100044547" type="event" subtype="system" action="Edit" cfgpath="firewall.policy"`,
    );
    expect(config.event).toMatchObject({ category: ['configuration'], type: ['change'] });
  });

  it('refuses a line without logid or type as a parse failure that keeps the original', () => {
    // `logid=` inside a quoted value lets the line through content sniffing, but it is not a key.
    for (const line of [
      `${HEAD} type="traffic" msg="no logid=1 here"`,
      `${HEAD} logid="0000000013" srcip=1.2.3.4`,
    ]) {
      const e = event(line);
      expect(e.tags).toContain('_parse_failure');
      expect(e.error?.message).toBe('FortiGate log without logid/type');
      expect(e.event.original).toBe(line);
    }
  });
});
