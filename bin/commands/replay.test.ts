/**
 * `siem-lite replay`: timestamps shifted in every format the fixtures use, files merged in time order and
 * routed per sub-folder, paced at the chosen rate, over real UDP/TCP sockets and through the real CLI.
 */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replay } from './replay.js';
import { firstTimestamp, shiftLine } from './replay-timestamps.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);
const HOUR = 3_600_000;

describe('timestamp shifting', () => {
  const context = { offsetMs: 36 * HOUR + 1500, zoneOffsetMinutes: 420, year: 2024 };

  it('moves RFC 3164, RFC 5424 / ISO and access-log times by one offset, each in its own format', () => {
    expect(shiftLine('<38>Jun  5 18:59:01 bastion sshd[811]: Failed password', context)).toBe(
      '<38>Jun  7 06:59:02 bastion sshd[811]: Failed password',
    );
    expect(shiftLine('<38>1 2026-11-26T02:00:00.123Z host sshd - - - x', context)).toBe(
      '<38>1 2026-11-27T14:00:01.623Z host sshd - - - x',
    );
    expect(shiftLine('<38>1 2026-11-26T23:30:00+07:00 h a - - - x', context)).toBe(
      '<38>1 2026-11-28T11:30:01+07:00 h a - - - x',
    );
    expect(
      shiftLine(
        '<190>Jun 15 20:00:01 portal nginx: 1.2.3.4 - - [15/Jun/2024:20:00:01 +0700] "GET / HTTP/1.1"',
        context,
      ),
    ).toBe('<190>Jun 17 08:00:02 portal nginx: 1.2.3.4 - - [17/Jun/2024:08:00:02 +0700] "GET / HTTP/1.1"');
    expect(shiftLine('no time here', context)).toBe('no time here');
  });

  it('reads RFC 3164 times in the replay zone', () => {
    expect(firstTimestamp('<38>Jun 15 18:59:01 h sshd: x', { zoneOffsetMinutes: 420, year: 2024 })).toBe(
      Date.parse('2024-06-15T18:59:01+07:00'),
    );
  });
});

describe('replay over real sockets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'siem-replay-'));
  let tcp: Server;
  let tcpPort: number;
  const tcpLines: string[] = [];
  let tcpRaw = '';
  const udp = createSocket('udp4');
  let udpPort: number;
  const udpLines: string[] = [];

  beforeAll(async () => {
    mkdirSync(join(dir, 'scenario', 'so-tttt'), { recursive: true });
    mkdirSync(join(dir, 'scenario', 'so-y-te'), { recursive: true });
    writeFileSync(
      join(dir, 'scenario', 'so-tttt', 'auth.log'),
      [0, 20, 40]
        .map((s) => `<38>1 2026-11-26T02:00:${String(s).padStart(2, '0')}.000Z bastion sshd 1 - - tttt ${s}`)
        .join('\n'),
    );
    writeFileSync(
      join(dir, 'scenario', 'so-y-te', 'fw.log'),
      [10, 30].map((s) => `<4>1 2026-11-26T02:00:${s}.000Z gw kernel - - - yte ${s}`).join('\n'),
    );
    writeFileSync(join(dir, 'scenario', 'expected.yaml'), 'incidents: []\n');
    tcp = createServer((socket) => {
      let buffered = '';
      socket.on('data', (chunk) => {
        tcpRaw += chunk.toString();
        buffered += chunk.toString();
        const parts = buffered.split('\n');
        buffered = parts.pop()!;
        tcpLines.push(...parts);
      });
    });
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    tcpPort = (tcp.address() as { port: number }).port;
    udp.on('message', (message) => udpLines.push(message.toString()));
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    udpPort = udp.address().port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    udp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const waitForLines = async (lines: string[], count: number) => {
    const deadline = Date.now() + 5000;
    while (lines.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  };

  it('merges the files in time order, routes a sub-folder elsewhere, shifts times and keeps the pace', async () => {
    tcpLines.length = 0;
    udpLines.length = 0;
    const summary = await replay({
      path: join(dir, 'scenario'),
      target: `tcp://127.0.0.1:${tcpPort}`,
      routes: { 'so-y-te': `udp://127.0.0.1:${udpPort}` },
      rate: 10,
      startAt: '2026-12-01T00:00:00.000Z',
      progress: false,
    });
    await waitForLines(tcpLines, 3);
    await waitForLines(udpLines, 2);
    expect(summary.lines).toBe(5);
    // 5 lines at 10/s: the last leaves 0.4 s after the first.
    expect(summary.seconds).toBeGreaterThanOrEqual(0.38);
    expect(tcpLines).toEqual([
      '<38>1 2026-12-01T00:00:00.000Z bastion sshd 1 - - tttt 0',
      '<38>1 2026-12-01T00:00:20.000Z bastion sshd 1 - - tttt 20',
      '<38>1 2026-12-01T00:00:40.000Z bastion sshd 1 - - tttt 40',
    ]);
    expect(udpLines).toEqual([
      '<4>1 2026-12-01T00:00:10.000Z gw kernel - - - yte 10',
      '<4>1 2026-12-01T00:00:30.000Z gw kernel - - - yte 30',
    ]);
  });

  it('keeps the recorded gaps, compressed by --speed', async () => {
    tcpLines.length = 0;
    udpLines.length = 0;
    // The scenario spans 40 s of event time: at 100× that is 0.4 s.
    const summary = await replay({
      path: join(dir, 'scenario'),
      target: `tcp://127.0.0.1:${tcpPort}`,
      routes: { 'so-y-te': `udp://127.0.0.1:${udpPort}` },
      rate: 0,
      speed: 100,
      startAt: false,
      progress: false,
    });
    expect(summary.lines).toBe(5);
    expect(summary.seconds).toBeGreaterThanOrEqual(0.38);
    expect(summary.seconds).toBeLessThan(5);
  });

  it('runs as `siem-lite replay` with octet-counted framing', async () => {
    tcpRaw = '';
    const { stderr } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'bin/main.ts',
        'replay',
        join(dir, 'scenario', 'so-tttt'),
        '--target',
        `tcp://127.0.0.1:${tcpPort}`,
        '--rate',
        '0',
        '--framing',
        'octet',
        '--quiet',
      ],
      { cwd: ROOT },
    );
    expect(stderr).toMatch(/replayed 3 lines/);
    // Octet counting (RFC 6587): "<length> <message>" back to back, no newline; times moved to now.
    const deadline = Date.now() + 5000;
    while (tcpRaw.split(' sshd ').length < 4 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const frames: string[] = [];
    for (let at = 0; at < tcpRaw.length; ) {
      const space = tcpRaw.indexOf(' ', at);
      const length = Number(tcpRaw.slice(at, space));
      frames.push(tcpRaw.slice(space + 1, space + 1 + length));
      at = space + 1 + length;
    }
    expect(frames.map((frame) => frame.split(' ').at(-1))).toEqual(['0', '20', '40']);
    expect(frames.every((frame) => frame.startsWith('<38>1 '))).toBe(true);
    expect(tcpRaw).not.toContain('\n');
    const first = Date.parse(frames[0]!.split(' ')[1]!);
    expect(Math.abs(first - Date.now())).toBeLessThan(60_000);
  });

  it('posts NDJSON to an HTTP ingest URL with the agency token: JSON lines as they are, others as messages', async () => {
    const bodies: { auth: string | undefined; type: string | undefined; body: string }[] = [];
    const server = createHttpServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        bodies.push({ auth: request.headers.authorization, type: request.headers['content-type'], body });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"accepted":2}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const file = join(dir, 'agent.log');
    writeFileSync(
      file,
      '{"@timestamp":"2026-11-26T02:00:00Z","event":{"code":"4625"}}\n<38>1 2026-11-26T02:00:05Z h sshd - - - x\n',
    );
    const summary = await replay({
      path: file,
      target: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest/v1/events`,
      rate: 0,
      startAt: false,
      token: 'agency-token',
      progress: false,
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(summary.lines).toBe(2);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toMatchObject({ auth: 'Bearer agency-token', type: 'application/x-ndjson' });
    expect(
      bodies[0]!.body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { '@timestamp': '2026-11-26T02:00:00Z', event: { code: '4625' } },
      { message: '<38>1 2026-11-26T02:00:05Z h sshd - - - x' },
    ]);
  });
});
