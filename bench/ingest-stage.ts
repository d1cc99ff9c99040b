/**
 * The ingest stage alone: syslog listeners → framing → RawRecord batches → enqueue, drained by a counting
 * queue. Senders run in a child process so they do not share this process's core.
 *
 *   npx tsx bench/ingest-stage.ts [burst-seconds] [report-every-seconds]
 *
 * 1. TCP: 4 connections send 400,000 LF-framed sshd lines as fast as they can → records/s.
 * 2. UDP: one sender paced at 30,000 datagrams/s for 10 s → received, dropped (backpressure), kernel drops.
 * 3. Memory: 1,000 idle TCP connections, then a sustained TCP burst (default 60 s): peak RSS and heap,
 *    and (with report-every-seconds) a line per interval with that interval's peaks, so growth over a long
 *    burst shows as a trend rather than one number.
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgencyDirectory } from '../core/agencies.js';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import type { RecordBatch } from '../core/model.js';
import type { RecordQueue } from '../core/ports.js';
import { readUdpDrops } from '../ingest/listeners/udp-kernel-drops.js';
import { startIngest } from '../ingest/service.js';

const burstSeconds = Number(process.argv[2] ?? 60);
const reportEverySeconds = Number(process.argv[3] ?? 0);

class CountingQueue implements RecordQueue {
  records = 0;
  batches = 0;
  async enqueue(batch: RecordBatch): Promise<void> {
    this.records += batch.records.length;
    this.batches++;
  }
  saturated(): boolean {
    return false;
  }
  async depth(): Promise<number> {
    return 0;
  }
  async close(): Promise<void> {}
}

/** The sender, as a plain ES module script run by `node` in a child process. */
const SENDER = `
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';
const [mode, port, a, b] = process.argv.slice(2);
const line = (i) => '<38>Jun 15 19:59:' + String(i % 60).padStart(2, '0') + ' bastion sshd[811]: Failed password for invalid user user' + (i % 300) + ' from 203.0.' + ((i >> 8) & 255) + '.' + (i & 255) + ' port ' + (40000 + (i % 20000)) + ' ssh2\\n';
if (mode === 'tcp') {
  const connections = Number(a), lines = Number(b);
  const per = Math.floor(lines / connections);
  let open = connections;
  for (let c = 0; c < connections; c++) {
    const socket = connect(Number(port), '127.0.0.1', () => {
      let i = 0;
      const write = () => {
        while (i < per) {
          let chunk = '';
          for (let k = 0; k < 500 && i < per; k++, i++) chunk += line(i);
          if (!socket.write(chunk)) return socket.once('drain', write);
        }
        socket.end(() => { if (--open === 0) process.exit(0); });
      };
      write();
    });
  }
} else if (mode === 'udp') {
  const rate = Number(a), seconds = Number(b);
  const socket = createSocket('udp4');
  let sent = 0;
  const started = Date.now();
  const tick = () => {
    const due = Math.min(rate * seconds, Math.floor(((Date.now() - started) / 1000) * rate));
    while (sent < due) socket.send(line(sent++).slice(0, -1), Number(port), '127.0.0.1');
    if (sent < rate * seconds) setTimeout(tick, 1);
    else setTimeout(() => { process.send({ sent }); socket.close(); process.exit(0); }, 200);
  };
  tick();
} else if (mode === 'idle') {
  const sockets = [];
  for (let c = 0; c < Number(a); c++) sockets.push(connect(Number(port), '127.0.0.1'));
  process.on('message', () => process.exit(0));
  setTimeout(() => process.send({ opened: sockets.length }), 2000);
}
`;
const senderFile = join(tmpdir(), `siem-ingest-sender-${process.pid}.mjs`);
writeFileSync(senderFile, SENDER);

function runSender(args: string[]): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = fork(senderFile, args, { stdio: 'inherit' });
    let message: Record<string, number> = {};
    child.on('message', (m) => {
      message = m as Record<string, number>;
      if ('opened' in message) resolve(Object.assign(message, { kill: () => child.send('stop') }) as never);
    });
    child.on('exit', (code) => (code === 0 ? resolve(message) : reject(new Error(`sender exited ${code}`))));
  });
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const { config } = loadConfig({ env: {} });
config.ingest.listeners = [
  { id: 'bench-tcp', transport: 'tcp', host: '127.0.0.1', port: 0, max_connections: 5000 },
  { id: 'bench-udp', transport: 'udp', host: '127.0.0.1', port: 0 },
];
const queue = new CountingQueue();
const ingest = await startIngest({
  config,
  queue,
  logger: createLogger({ level: 'warn' }),
  agencies: AgencyDirectory.fromFile('fixtures/agencies/hau-giang.yaml'),
});
const tcpPort = ingest.addresses.find((a) => a.transport === 'tcp')!.port;
const udpPort = ingest.addresses.find((a) => a.transport === 'udp')!.port;
let peakRss = 0;
let peakHeap = 0;
// Peaks since the last interval report (reset by it); the overall peaks above are never reset by it.
let intervalRss = 0;
let intervalHeap = 0;
const sampler = setInterval(() => {
  const memory = process.memoryUsage();
  peakRss = Math.max(peakRss, memory.rss);
  peakHeap = Math.max(peakHeap, memory.heapUsed);
  intervalRss = Math.max(intervalRss, memory.rss);
  intervalHeap = Math.max(intervalHeap, memory.heapUsed);
}, 100);

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

// 1. TCP throughput
{
  const LINES = 400_000;
  const before = queue.records;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await runSender(['tcp', String(tcpPort), '4', String(LINES)]);
  await until(() => queue.records - before >= LINES);
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  console.log(
    `TCP: ${LINES.toLocaleString('en-US')} lines in ${wallMs.toFixed(0)} ms = ${Math.round((LINES / wallMs) * 1000).toLocaleString('en-US')} records/s wall, ${Math.round((LINES / cpuMs) * 1000).toLocaleString('en-US')} per CPU-second of the ingest process`,
  );
}

// 2. UDP at 30k/s
{
  const received = queue.records;
  const kernelBefore = readUdpDrops().get(udpPort) ?? 0;
  const { sent } = await runSender(['udp', String(udpPort), '30000', '10']);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const got = queue.records - received;
  const kernel = (readUdpDrops().get(udpPort) ?? 0) - kernelBefore;
  console.log(
    `UDP: sent ${sent!.toLocaleString('en-US')} at 30,000/s, queued ${got.toLocaleString('en-US')}, dropped in service 0 (queue never saturated), kernel drops ${kernel}`,
  );
}

// 3. Memory: idle connections, then a sustained burst
{
  global.gc?.();
  const base = process.memoryUsage();
  const idle = (await runSender(['idle', String(tcpPort), '1000'])) as unknown as {
    opened: number;
    kill: () => void;
  };
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const withIdle = process.memoryUsage();
  console.log(
    `1,000 idle TCP connections: RSS ${mb(base.rss)} → ${mb(withIdle.rss)}, heap ${mb(base.heapUsed)} → ${mb(withIdle.heapUsed)}`,
  );
  idle.kill();
  peakRss = 0;
  peakHeap = 0;
  const burstStart = Date.now();
  const until = burstStart + burstSeconds * 1000;
  let total = 0;
  let intervalCpu = process.cpuUsage();
  let intervalRecords = queue.records;
  let intervalStart = burstStart;
  const intervalReporter =
    reportEverySeconds > 0
      ? setInterval(() => {
          const now = Date.now();
          const cpu = process.cpuUsage(intervalCpu);
          const records = queue.records - intervalRecords;
          console.log(
            `  t=${String(Math.round((now - burstStart) / 1000)).padStart(4)} s: ${Math.round((records / (now - intervalStart)) * 1000).toLocaleString('en-US')} records/s wall, CPU ${(((cpu.user + cpu.system) / 1000 / (now - intervalStart)) * 100).toFixed(0)}%, peak RSS ${mb(intervalRss)}, peak heap ${mb(intervalHeap)}`,
          );
          intervalRss = 0;
          intervalHeap = 0;
          intervalCpu = process.cpuUsage();
          intervalRecords = queue.records;
          intervalStart = now;
        }, reportEverySeconds * 1000)
      : undefined;
  while (Date.now() < until) {
    await runSender(['tcp', String(tcpPort), '4', '200000']);
    total += 200_000;
  }
  clearInterval(intervalReporter);
  await new Promise((resolve) => setTimeout(resolve, 500));
  console.log(
    `Burst ${burstSeconds} s, ${total.toLocaleString('en-US')} lines: peak RSS ${mb(peakRss)}, peak heap ${mb(peakHeap)}, after: RSS ${mb(process.memoryUsage().rss)}`,
  );
}

clearInterval(sampler);
await ingest.close();
process.exit(0);
