/**
 * `siem-lite replay <file-or-dir>`: sends recorded logs to a running siem-lite (or any syslog receiver) at
 * a chosen rate, over UDP, TCP, TLS or HTTP, with their timestamps shifted so the earliest line happens now
 * (or at `--start-at`). Lines of every file under a folder are merged in time order; `--route sub=url` sends
 * the files under `sub/` to another target (one listener per agency, for example).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { connect as connectTcp, type Socket } from 'node:net';
import { join, relative, sep } from 'node:path';
import { connect as connectTls } from 'node:tls';
import cliProgress from 'cli-progress';
import { firstTimestamp, shiftLine } from './replay-timestamps.js';

export interface ReplayOptions {
  path: string;
  /** `udp://host:port`, `tcp://…`, `tls://…` or `http(s)://host:port/path`. */
  target: string;
  /** Sub-folder (relative to `path`) → target for the files under it. */
  routes?: Record<string, string>;
  /** Lines per second; 0 sends as fast as the targets take them. */
  rate: number;
  /**
   * Keep the recorded gaps between lines, this many times faster (1 = real time, 60 = an hour in a minute);
   * with `rate` too, the slower of the two paces each line. 0 or absent: pace by `rate` alone.
   */
  speed?: number;
  /** The time the earliest line is moved to (ISO 8601); default now. `false` keeps the recorded times. */
  startAt?: string | false;
  /** Zone of timestamps without one (RFC 3164), as an offset like `+07:00`. */
  zone?: string;
  /** Year of RFC 3164 timestamps (they have none); default the current year. */
  year?: number;
  /** TCP/TLS framing: newline (non-transparent) or octet counting (RFC 6587). */
  framing?: 'lf' | 'octet';
  /** TLS: a CA file to trust; `insecure` skips verification (test setups only). */
  ca?: string;
  insecure?: boolean;
  /** HTTP: bearer token of the agency's ingest key. */
  token?: string;
  progress?: boolean;
}

interface ReplayLine {
  text: string;
  time: number;
  target: string;
}

/** Every line to send, merged across files in time order (lines without a time follow the one before). */
export function readReplayLines(options: ReplayOptions): ReplayLine[] {
  const files = listFiles(options.path);
  const zoneMinutes = zoneOffsetMinutes(options.zone ?? '+07:00');
  const year = options.year ?? new Date().getUTCFullYear();
  const lines: (ReplayLine & { order: number })[] = [];
  let order = 0;
  for (const file of files) {
    const target = routeOf(options, file);
    let last = Number.NEGATIVE_INFINITY;
    for (const text of readFileSync(file, 'utf8').split('\n')) {
      const line = text.endsWith('\r') ? text.slice(0, -1) : text;
      if (line.trim() === '') continue;
      const time = firstTimestamp(line, { zoneOffsetMinutes: zoneMinutes, year }) ?? last;
      last = time;
      lines.push({ text: line, time, target, order: order++ });
    }
  }
  lines.sort((a, b) => a.time - b.time || a.order - b.order);
  const earliest = lines.find((l) => Number.isFinite(l.time))?.time;
  if (options.startAt === false || earliest === undefined) return lines;
  const startAt = options.startAt ? Date.parse(options.startAt) : Date.now();
  if (Number.isNaN(startAt)) throw new Error(`--start-at: not a time: ${options.startAt}`);
  const context = { offsetMs: startAt - earliest, zoneOffsetMinutes: zoneMinutes, year };
  return lines.map((l) => ({
    text: shiftLine(l.text, context),
    time: l.time + context.offsetMs,
    target: l.target,
  }));
}

function listFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      // Logs only: expected outputs and scenario descriptions sit beside them.
      else if (!/\.(json|ya?ml|md)$/i.test(entry.name)) files.push(full);
    }
  };
  walk(path);
  return files;
}

function routeOf(options: ReplayOptions, file: string): string {
  const rel = relative(options.path, file);
  for (const [sub, target] of Object.entries(options.routes ?? {})) {
    if (rel === sub || rel.startsWith(`${sub}${sep}`)) return target;
  }
  return options.target;
}

function zoneOffsetMinutes(zone: string): number {
  const match = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (!match) throw new Error(`--zone: expected an offset like +07:00, got ${zone}`);
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]));
}

interface Sender {
  send(line: string): Promise<void>;
  close(): Promise<void>;
}

async function openSender(target: string, options: ReplayOptions): Promise<Sender> {
  const url = new URL(target);
  const port = Number(url.port);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  switch (url.protocol) {
    case 'udp:': {
      const socket: UdpSocket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      return {
        send: (line) =>
          new Promise((resolve, reject) =>
            socket.send(line, port, host, (error) => (error ? reject(error) : resolve())),
          ),
        close: () => new Promise((resolve) => socket.close(() => resolve())),
      };
    }
    case 'tcp:':
    case 'tls:': {
      const socket: Socket = await new Promise((resolve, reject) => {
        const s =
          url.protocol === 'tcp:'
            ? connectTcp({ host, port }, () => resolve(s))
            : connectTls(
                {
                  host,
                  port,
                  servername: host,
                  rejectUnauthorized: !options.insecure,
                  ...(options.ca ? { ca: readFileSync(options.ca) } : {}),
                },
                () => resolve(s),
              );
        s.once('error', reject);
      });
      const frame = (line: string) =>
        options.framing === 'octet' ? `${Buffer.byteLength(line)} ${line}` : `${line}\n`;
      return {
        send: (line) =>
          new Promise((resolve, reject) => {
            if (socket.write(frame(line))) resolve();
            else socket.once('drain', resolve).once('error', reject);
          }),
        close: () =>
          new Promise((resolve) => {
            socket.once('close', () => resolve());
            socket.end();
          }),
      };
    }
    case 'http:':
    case 'https:': {
      // NDJSON to the ingest API: a JSON line (an agent's event) as it is, any other line as {"message": …}.
      let pending: string[] = [];
      const flush = async () => {
        if (pending.length === 0) return;
        const documents = pending.map((line) =>
          line.startsWith('{') ? line : JSON.stringify({ message: line }),
        );
        const body = `${documents.join('\n')}\n`;
        pending = [];
        const response = await fetch(target, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-ndjson',
            ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          },
          body,
        });
        if (!response.ok) throw new Error(`${target}: HTTP ${response.status} ${await response.text()}`);
      };
      return {
        async send(line) {
          pending.push(line);
          if (pending.length >= 500) await flush();
        },
        close: flush,
      };
    }
    default:
      throw new Error(`unsupported target ${target} (udp://, tcp://, tls://, http://, https://)`);
  }
}

export interface ReplaySummary {
  lines: number;
  seconds: number;
  byTarget: Record<string, number>;
}

export async function replay(options: ReplayOptions): Promise<ReplaySummary> {
  const lines = readReplayLines(options);
  const senders = new Map<string, Sender>();
  for (const target of new Set(lines.map((l) => l.target)))
    senders.set(target, await openSender(target, options));
  const bar =
    options.progress === false
      ? undefined
      : new cliProgress.SingleBar(
          {
            format: 'replay |{bar}| {value}/{total} lines | {speed} lines/s',
            stream: process.stderr,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        );
  bar?.start(lines.length, 0, { speed: 0 });
  const byTarget: Record<string, number> = {};
  const started = performance.now();
  const firstTime = lines.find((l) => Number.isFinite(l.time))?.time;
  const speed = options.speed ?? 0;
  try {
    for (const [i, line] of lines.entries()) {
      // Paced by the schedule, not by sleeps per line: the pace holds even when a send is slow.
      let due = options.rate > 0 ? started + (i * 1000) / options.rate : 0;
      if (speed > 0 && firstTime !== undefined && Number.isFinite(line.time)) {
        due = Math.max(due, started + (line.time - firstTime) / speed);
      }
      const ahead = due - performance.now();
      if (ahead > 2) await new Promise((resolve) => setTimeout(resolve, ahead));
      await senders.get(line.target)!.send(line.text);
      byTarget[line.target] = (byTarget[line.target] ?? 0) + 1;
      if (bar && (i % 50 === 0 || i === lines.length - 1)) {
        const elapsed = (performance.now() - started) / 1000;
        bar.update(i + 1, { speed: elapsed > 0 ? Math.round((i + 1) / elapsed) : 0 });
      }
    }
  } finally {
    for (const sender of senders.values()) await sender.close();
    bar?.stop();
  }
  return { lines: lines.length, seconds: (performance.now() - started) / 1000, byTarget };
}
