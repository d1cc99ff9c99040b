import { describe, expect, it } from 'vitest';
import { parseSyslog } from './parse-syslog.js';
import { parseRfc3164 } from './rfc3164.js';

const HCM = 'Asia/Ho_Chi_Minh';
const at = (iso: string) => ({ receivedAt: Date.parse(iso), timezone: HCM });
const june = at('2024-06-01T12:00:00+07:00');

describe('parseRfc3164: the examples of RFC 3164 section 5.4', () => {
  it('reads PRI, timestamp, hostname and tag', () => {
    expect(
      parseRfc3164("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8", june),
    ).toEqual({
      format: 'rfc3164',
      priority: 34,
      // October 2023: an October date in June must be last year's, never four months ahead.
      timestamp: Date.parse('2023-10-11T22:14:15+07:00'),
      zoneAssumed: true,
      hostname: 'mymachine',
      appName: 'su',
      message: "'su root' failed for lonvick on /dev/pts/8",
    });
  });

  it('reads a space-padded day and an IP address as hostname with no tag', () => {
    const envelope = parseRfc3164('<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!', june);
    expect(envelope.timestamp).toBe(Date.parse('2024-02-05T17:32:18+07:00'));
    expect(envelope.hostname).toBe('10.0.0.99');
    expect(envelope.appName).toBeUndefined();
    expect(envelope.message).toBe('Use the BFG!');
  });
});

describe('parseRfc3164: what real senders write', () => {
  it('reads lines from a file: no PRI, tag[pid]', () => {
    const envelope = parseRfc3164(
      'Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186',
      at('2024-06-01T00:00:00Z'),
    );
    expect(envelope).toMatchObject({
      format: 'rfc3164',
      hostname: 'LabSZ',
      appName: 'sshd',
      procId: '24200',
      message: 'Invalid user webmaster from 173.234.31.186',
    });
    expect(envelope.priority).toBeUndefined();
  });

  it('reads a program name with parentheses', () => {
    const envelope = parseRfc3164(
      'Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; rhost=218.188.2.4',
      june,
    );
    expect(envelope).toMatchObject({ hostname: 'combo', appName: 'sshd(pam_unix)', procId: '19939' });
  });

  it('reads a message without hostname (the tag follows the time)', () => {
    const envelope = parseRfc3164("<13>Oct 11 22:14:15 su: 'su root' failed", june);
    expect(envelope.hostname).toBeUndefined();
    expect(envelope.appName).toBe('su');
    expect(envelope.message).toBe("'su root' failed");
  });

  it('reads ISO 8601 timestamps (rsyslog forward format) with and without offset', () => {
    const withOffset = parseRfc3164('<86>2024-03-05T10:11:12.345678+00:00 web01 sudo: x', june);
    expect(withOffset).toMatchObject({
      timestamp: Date.parse('2024-03-05T10:11:12.345Z'),
      subMillis: '678',
      hostname: 'web01',
      appName: 'sudo',
      message: 'x',
    });
    expect(withOffset.zoneAssumed).toBeUndefined();
    const local = parseRfc3164('2024-03-05T10:11:12 web01 sudo: x', june);
    expect(local.timestamp).toBe(Date.parse('2024-03-05T03:11:12Z'));
    expect(local.zoneAssumed).toBe(true);
  });

  it('reads Cisco ASA with year and no host, keeping the %ASA mnemonic in the message', () => {
    const envelope = parseRfc3164(
      '<166>Jan 05 2024 10:00:00: %ASA-6-302013: Built inbound TCP connection 1 for outside:203.0.113.5/51000',
      june,
    );
    expect(envelope).toMatchObject({
      priority: 166,
      timestamp: Date.parse('2024-01-05T10:00:00+07:00'),
      message: '%ASA-6-302013: Built inbound TCP connection 1 for outside:203.0.113.5/51000',
    });
    expect(envelope.hostname).toBeUndefined();
    expect(envelope.appName).toBeUndefined();
  });

  it('reads Cisco ASA with a device id and ` : ` separator, and with no header at all', () => {
    const named = parseRfc3164('<166>Jan  5 2024 10:00:00 fw01 : %ASA-4-106023: Deny tcp src', june);
    expect(named).toMatchObject({ hostname: 'fw01', message: '%ASA-4-106023: Deny tcp src' });
    const bare = parseRfc3164('<166>%ASA-4-106023: Deny tcp src', june);
    expect(bare).toMatchObject({ priority: 166, message: '%ASA-4-106023: Deny tcp src' });
    expect(bare.timestamp).toBeUndefined();
  });

  it('reads Cisco IOS unsynchronised time with milliseconds and UTC', () => {
    const envelope = parseRfc3164(
      '<189>*Mar  1 18:46:11.123 UTC: %SYS-5-CONFIG_I: Configured',
      at('2024-06-01T00:00:00Z'),
    );
    expect(envelope.timestamp).toBe(Date.parse('2024-03-01T18:46:11.123Z'));
    expect(envelope.zoneAssumed).toBeUndefined();
    expect(envelope.message).toBe('%SYS-5-CONFIG_I: Configured');
  });

  it('keeps FortiGate key=value without syslog header whole', () => {
    const text =
      '<189>date=2024-01-05 time=10:00:00 devname="FG100E" devid="FG100E123" logid="0000000013" type="traffic"';
    const envelope = parseRfc3164(text, june);
    expect(envelope).toMatchObject({ priority: 189, message: text.slice(5) });
    expect(envelope.timestamp).toBeUndefined();
    expect(envelope.hostname).toBeUndefined();
  });

  it('marks a line with neither PRI nor time as format none and keeps it whole', () => {
    expect(parseRfc3164('just some words: here', june)).toEqual({
      format: 'none',
      message: 'just some words: here',
    });
    expect(parseRfc3164('', june)).toEqual({ format: 'none', message: '' });
  });

  it('treats an invalid PRI as text', () => {
    expect(parseRfc3164('<999>Oct 11 22:14:15 h a: b', june).priority).toBeUndefined();
    expect(parseRfc3164('<01>Oct 11 22:14:15 h a: b', june).priority).toBeUndefined();
    expect(parseRfc3164('<0>Oct 11 22:14:15 h a: b', june).priority).toBe(0);
  });

  it('does not take a URL in the message for a tag', () => {
    const envelope = parseRfc3164('<14>Oct 11 22:14:15 host http://example.com/ is down', june);
    expect(envelope.appName).toBeUndefined();
    expect(envelope.message).toBe('http://example.com/ is down');
  });

  it('rejects a time cut short at the end of the text (found by the property tests)', () => {
    const envelope = parseRfc3164('<4>Jun 15 19:20:', june);
    expect(envelope.timestamp).toBeUndefined();
    expect(envelope.message).toBe('Jun 15 19:20:');
  });

  it('rejects impossible dates as timestamps without losing the text', () => {
    const envelope = parseRfc3164('<14>Feb 30 10:00:00 host app: x', june);
    expect(envelope.timestamp).toBeUndefined();
    expect(envelope.message).toBe('Feb 30 10:00:00 host app: x');
  });
});

describe('RFC 3164 time: zone and year', () => {
  it('reads the wall time in the configured zone (default Asia/Ho_Chi_Minh, or the agency zone)', () => {
    const line = '<14>Mar  5 10:00:00 h a: x';
    expect(parseRfc3164(line, june).timestamp).toBe(Date.parse('2024-03-05T03:00:00Z'));
    expect(parseRfc3164(line, { ...june, timezone: 'Europe/Paris' }).timestamp).toBe(
      Date.parse('2024-03-05T09:00:00Z'),
    );
  });

  it('puts a Dec 31 line received just after New Year (local) in the old year', () => {
    const envelope = parseRfc3164('<14>Dec 31 23:59:59 h a: x', at('2026-01-01T00:00:30+07:00'));
    expect(envelope.timestamp).toBe(Date.parse('2025-12-31T23:59:59+07:00'));
  });

  it('puts a Jan 1 line from a sender a few seconds ahead into the new year', () => {
    const envelope = parseRfc3164('<14>Jan  1 00:00:02 h a: x', at('2025-12-31T23:59:58+07:00'));
    expect(envelope.timestamp).toBe(Date.parse('2026-01-01T00:00:02+07:00'));
  });

  it('decides the year by the local calendar, not UTC (New Year in Vietnam is 17:00 UTC)', () => {
    // Received 2025-12-31T18:00Z = 2026-01-01 01:00 local: a "Jan  1 00:59" line is this year's.
    const envelope = parseRfc3164('<14>Jan  1 00:59:00 h a: x', at('2025-12-31T18:00:00Z'));
    expect(envelope.timestamp).toBe(Date.parse('2026-01-01T00:59:00+07:00'));
  });

  it('never lands months in the future: replayed December lines in November are last year', () => {
    const envelope = parseRfc3164('Dec 10 06:55:46 LabSZ sshd[1]: x', at('2026-11-26T08:00:00Z'));
    expect(envelope.timestamp).toBe(Date.parse('2025-12-10T06:55:46+07:00'));
    expect(envelope.timestamp!).toBeLessThan(Date.parse('2026-11-26T08:00:00Z'));
  });

  it('places Feb 29 in the most recent leap year', () => {
    expect(parseRfc3164('<14>Feb 29 12:00:00 h a: x', at('2026-03-01T00:00:00Z')).timestamp).toBe(
      Date.parse('2024-02-29T12:00:00+07:00'),
    );
  });

  it('resolves DST overlaps to the first occurrence', () => {
    const envelope = parseRfc3164('<14>Nov  3 01:30:00 h a: x', {
      receivedAt: Date.parse('2024-11-10T00:00:00Z'),
      timezone: 'America/New_York',
    });
    expect(envelope.timestamp).toBe(Date.parse('2024-11-03T01:30:00-04:00'));
  });
});

describe('parseSyslog', () => {
  it('falls back to RFC 3164 when a version-looking header is not RFC 5424', () => {
    const envelope = parseSyslog('<14>1 is not a version', june);
    expect(envelope.format).toBe('rfc3164');
    expect(envelope.message).toBe('1 is not a version');
  });
});
