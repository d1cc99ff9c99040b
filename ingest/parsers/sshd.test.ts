import { describe, expect, it } from 'vitest';
import type { EcsEvent } from '../ecs.js';
import { sshdParser } from './sshd.js';

function parse(message: string): { status: string; event: EcsEvent } {
  const event: EcsEvent = {
    '@timestamp': '2024-01-01T00:00:00.000Z',
    event: { id: 'x', ingested: '2024-01-01T00:00:00.000Z', original: message },
    agency: { id: 'unknown' },
  };
  const outcome = sshdParser.parse(message, event, { format: 'rfc3164', message });
  return { status: outcome.status, event };
}

describe('sshd parser', () => {
  it('reads a failed password', () => {
    const { status, event } = parse('Failed password for root from 203.0.113.5 port 51234 ssh2');
    expect(status).toBe('parsed');
    expect(event.event).toMatchObject({
      kind: 'event',
      category: ['authentication'],
      type: ['info'],
      action: 'ssh_login',
      outcome: 'failure',
      module: 'system',
      dataset: 'system.auth',
    });
    expect(event.source).toEqual({ ip: '203.0.113.5', port: 51234 });
    expect(event.user).toEqual({ name: 'root' });
    expect(event.related).toEqual({ ip: ['203.0.113.5'], user: ['root'] });
    expect(event.system).toEqual({ auth: { ssh: { event: 'Failed', method: 'password' } } });
  });

  it('reads a failed password for an invalid user, including odd user names', () => {
    const { event } = parse('Failed password for invalid user admin from 198.51.100.7 port 40000 ssh2');
    expect(event.user?.name).toBe('admin');
    expect(event.event.reason).toBe('invalid user');
    expect(event.event.outcome).toBe('failure');
    const odd = parse('Failed password for invalid user from me from 198.51.100.7 port 40000 ssh2').event;
    expect(odd.user?.name).toBe('from me');
    expect(odd.source?.ip).toBe('198.51.100.7');
  });

  it('reads a failed none/publickey method', () => {
    const { event } = parse('Failed none for invalid user 0 from 5.36.59.76 port 42393 ssh2');
    expect(event.event.action).toBe('ssh_login');
    expect(event.user?.name).toBe('0');
    expect((event.system as { auth: { ssh: { method: string } } }).auth.ssh.method).toBe('none');
  });

  it('reads accepted password and publickey logins', () => {
    const password = parse('Accepted password for fztu from 119.137.62.142 port 49116 ssh2').event;
    expect(password.event).toMatchObject({
      action: 'ssh_login',
      outcome: 'success',
      category: ['authentication', 'session'],
    });
    expect(password.user?.name).toBe('fztu');
    const key = parse(
      'Accepted publickey for deploy from 2001:db8::7 port 50022 ssh2: ED25519 SHA256:Xf3vQ1Jb9aY0pWm5b8c7d6e5f4',
    ).event;
    expect(key.source).toEqual({ ip: '2001:db8::7', port: 50022 });
    expect(key.system).toEqual({
      auth: {
        ssh: {
          event: 'Accepted',
          method: 'publickey',
          signature: 'ED25519 SHA256:Xf3vQ1Jb9aY0pWm5b8c7d6e5f4',
        },
      },
    });
  });

  it('reads invalid user with and without port', () => {
    const withoutPort = parse('Invalid user webmaster from 173.234.31.186').event;
    expect(withoutPort.event).toMatchObject({ action: 'ssh_invalid_user', outcome: 'failure' });
    expect(withoutPort.user?.name).toBe('webmaster');
    expect(withoutPort.source).toEqual({ ip: '173.234.31.186' });
    const withPort = parse('Invalid user test from 10.0.0.1 port 4444').event;
    expect(withPort.source).toEqual({ ip: '10.0.0.1', port: 4444 });
  });

  it('reads disconnects and closed connections', () => {
    const received = parse('Received disconnect from 139.59.209.18: 11: Bye Bye [preauth]').event;
    expect(received.event.action).toBe('ssh_disconnect');
    expect(received.source?.ip).toBe('139.59.209.18');
    expect(received.tags).toEqual(['preauth']);
    const newer = parse('Received disconnect from 139.59.209.18 port 22000:11: Bye Bye [preauth]').event;
    expect(newer.source).toEqual({ ip: '139.59.209.18', port: 22000 });
    const closed = parse(
      'Connection closed by authenticating user root 203.0.113.9 port 3333 [preauth]',
    ).event;
    expect(closed.event.action).toBe('ssh_connection_closed');
    expect(closed.user?.name).toBe('root');
    expect(closed.source).toEqual({ ip: '203.0.113.9', port: 3333 });
    const noIdent = parse('Did not receive identification string from 123.235.32.19').event;
    expect(noIdent.event.action).toBe('ssh_no_identification');
    expect(noIdent.source?.ip).toBe('123.235.32.19');
  });

  it('reads the reverse-mapping warning', () => {
    const { event } = parse(
      'reverse mapping checking getaddrinfo for ns.marryaldkfaczcz.com [173.234.31.186] failed - POSSIBLE BREAK-IN ATTEMPT!',
    );
    expect(event.event.action).toBe('ssh_reverse_mapping_failed');
    expect(event.source).toEqual({ ip: '173.234.31.186', domain: 'ns.marryaldkfaczcz.com' });
  });

  it('unwraps `message repeated N times`', () => {
    const { status, event } = parse(
      'message repeated 5 times: [ Failed password for root from 183.62.140.253 port 45678 ssh2]',
    );
    expect(status).toBe('parsed');
    expect(event.event.action).toBe('ssh_login');
    expect(event.event.repeat_count).toBe(5);
    expect(event.source?.ip).toBe('183.62.140.253');
    expect(event.tags).toContain('repeated');
  });

  it('leaves other sshd lines unrecognised without failing them', () => {
    for (const line of ['Server listening on 0.0.0.0 port 22.', 'Failed', 'Accepted password for', '']) {
      const { status, event } = parse(line);
      expect(status).toBe('unrecognised');
      expect(event.event.dataset).toBe('system.auth');
      expect(event.event.action).toBeUndefined();
    }
  });
});
