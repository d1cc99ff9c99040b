import { describe, expect, it } from 'vitest';
import type { EcsEvent } from '../ecs.js';
import { webAccessParser } from './web-access.js';

function parse(message: string, appName = 'nginx'): { status: string; event: EcsEvent } {
  const event: EcsEvent = {
    '@timestamp': '2024-01-01T00:00:00.000Z',
    event: { id: 'x', ingested: '2024-01-01T00:00:00.000Z', original: message },
    agency: { id: 'unknown' },
  };
  const outcome = webAccessParser.parse(message, event, { format: 'rfc3164', message, appName });
  return { status: outcome.status, event };
}

const line = (time: string, rest = '"GET / HTTP/1.1" 200 5') => `203.0.113.5 - - [${time}] ${rest}`;

describe('web access parser', () => {
  it('reads the time of every month, in its offset, across days, months and years', () => {
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    months.forEach((month, index) => {
      const { event } = parse(line(`28/${month}/2024:23:59:59 +0700`));
      expect(event['@timestamp']).toBe(new Date(Date.UTC(2024, index, 28, 16, 59, 59)).toISOString());
    });
    // Alternating days (each changes the remembered day) and a negative offset across New Year.
    expect(parse(line('31/Dec/2023:20:00:00 -0500')).event['@timestamp']).toBe('2024-01-01T01:00:00.000Z');
    expect(parse(line('01/Jan/2024:00:00:00 +0000')).event['@timestamp']).toBe('2024-01-01T00:00:00.000Z');
    expect(parse(line('31/Dec/2023:20:00:00 -0500')).event['@timestamp']).toBe('2024-01-01T01:00:00.000Z');
    // Out-of-range fields roll over as Date.UTC does (as before); a bad month or digit is no time at all.
    expect(parse(line('31/Feb/2024:10:00:00 +0000')).event['@timestamp']).toBe('2024-03-02T10:00:00.000Z');
    expect(parse(line('15/jun/2024:10:00:00 +0000')).status).toBe('unrecognised');
    expect(parse(line('15/Jun/2024:1O:00:00 +0000')).status).toBe('unrecognised');
  });

  it('reads status and size as numbers, including the odd forms Number accepts', () => {
    const plain = parse(line('15/Jun/2024:10:00:00 +0700', '"GET /a HTTP/1.1" 404 0 "-" "-"')).event;
    expect(plain.http).toEqual({
      request: { method: 'GET' },
      version: '1.1',
      response: { status_code: 404, body: { bytes: 0 } },
    });
    expect(plain.event.outcome).toBe('failure');
    expect(plain.user_agent).toBeUndefined();
    const dashSize = parse(line('15/Jun/2024:10:00:00 +0700', '"GET /a HTTP/1.1" 304 -')).event;
    expect(dashSize.http).toMatchObject({ response: { status_code: 304 } });
    expect((dashSize.http as { response: object }).response).not.toHaveProperty('body');
    const odd = parse(line('15/Jun/2024:10:00:00 +0700', '"GET /a HTTP/1.1" 2e2 0x10')).event;
    expect((odd.http as { response: object }).response).toEqual({ status_code: 200, body: { bytes: 16 } });
    const noStatus = parse(line('15/Jun/2024:10:00:00 +0700', '"GET /a HTTP/1.1" abc 12')).event;
    expect((noStatus.http as { response: object }).response).toEqual({ body: { bytes: 12 } });
    expect(noStatus.event.outcome).toBeUndefined();
  });

  it('keeps users, referrers and agents, but not the `-` placeholder; unescapes \\" in request and agent', () => {
    const { event } = parse(
      '10.0.0.1 - u [15/Jun/2024:10:00:00 +0700] "GET /q?a=\\"x\\" HTTP/1.1" 200 1 "https://r.example/" "Agent \\"quoted\\""',
    );
    expect(event.user).toEqual({ name: 'u' });
    expect(event.url).toEqual({ original: '/q?a="x"', path: '/q', query: 'a="x"' });
    expect(event.http).toMatchObject({ request: { method: 'GET', referrer: 'https://r.example/' } });
    expect(event.user_agent).toEqual({ original: 'Agent "quoted"' });
    const dash = parse('10.0.0.1 - - [15/Jun/2024:10:00:00 +0700] "-" 408 0 "-" "-"').event;
    expect(dash.user).toBeUndefined();
    expect(dash.url).toBeUndefined();
    expect(dash.http).toEqual({ response: { status_code: 408, body: { bytes: 0 } } });
    const referrerOnly = parse('10.0.0.1 - -x [15/Jun/2024:10:00:00 +0700] "\\x16\\x03" 400 0 "r" "-"').event;
    expect(referrerOnly.user).toEqual({ name: '-x' });
    expect(referrerOnly.http).toMatchObject({ request: { referrer: 'r' } });
    expect(referrerOnly.url).toEqual({ original: '\\x16\\x03' });
  });

  it('names the module and dataset after the program', () => {
    expect(parse(line('15/Jun/2024:10:00:00 +0700'), 'Apache2').event.event.dataset).toBe('apache.access');
    expect(parse(line('15/Jun/2024:10:00:00 +0700'), 'httpd').event.event.module).toBe('apache');
    expect(parse(line('15/Jun/2024:10:00:00 +0700'), 'nginx-access').event.event.dataset).toBe(
      'nginx.access',
    );
    expect(parse(line('15/Jun/2024:10:00:00 +0700'), '').event.event.dataset).toBe('web.access');
  });
});
