/**
 * Scale mode with several worker processes (the real `siem-lite worker` CLI) on one Redis and one
 * Elasticsearch:
 * - three workers fed an attack stream in a shuffled order open exactly the incidents one worker opens from
 *   the stream in order (correlation windows shared through Redis, incidents through the store);
 * - a worker killed with SIGKILL mid-stream loses nothing and duplicates nothing: its batch goes back to the
 *   queue (BullMQ stalled-job recovery), the next worker re-runs it, and every stage is idempotent.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { RawRecord } from '../../core/model.js';
import { batchesOf, comparableSet, recordsOf, ScaleDeployment } from '../support/scale-deployment.js';
import { waitFor } from '../support/siem-process.js';

const BASE = Date.UTC(2026, 10, 26, 2, 0, 0);
const at = (seconds: number) => new Date(BASE + seconds * 1000).toISOString();
const sshd = (seconds: number, message: string) => `<38>1 ${at(seconds)} bastion sshd 811 - - ${message}`;

/** Phase 1, the noisy part: brute force, a spray, a few stray failures, a port scan (64 records). */
function phaseOne(): RawRecord[] {
  const lines: string[] = [];
  // 203.0.113.10: 30 failures for root in 150 s → SSH Brute Force (10 in 10 min) fires 3 times.
  for (let i = 0; i < 30; i++)
    lines.push(sshd(i * 5, `Failed password for root from 203.0.113.10 port ${41000 + i} ssh2`));
  // 198.51.100.20: 10 users once each → Password Spraying (5 users) twice, Brute Force once.
  for (let i = 0; i < 10; i++)
    lines.push(sshd(3 + i * 7, `Failed password for user${i} from 198.51.100.20 port ${42000 + i} ssh2`));
  // 192.0.2.30: 4 failures, below every threshold: no incident.
  for (let i = 0; i < 4; i++)
    lines.push(sshd(11 + i * 13, `Failed password for admin from 192.0.2.30 port ${43000 + i} ssh2`));
  const records = recordsOf(lines, { agency: 'so-tttt', peer: '10.93.2.15:40514' });
  // 203.0.113.99 denied on 20 distinct ports in 40 s → Port Scan (20 ports in 1 min) once.
  const scan = Array.from(
    { length: 20 },
    (_, i) =>
      `<4>1 ${at(20 + i * 2)} gw01 kernel - - - [UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.99 DST=10.93.8.10 LEN=60 TTL=52 PROTO=TCP SPT=${50000 + i} DPT=${1000 + i} SYN`,
  );
  return [...records, ...recordsOf(scan, { agency: 'so-y-te', peer: '10.93.8.1:40514', firstSeq: 1000 })];
}

/** Phase 2, minutes later: the brute-forced address logs in (success after brute force). */
function phaseTwo(): RawRecord[] {
  return recordsOf([sshd(200, 'Accepted password for root from 203.0.113.10 port 41999 ssh2')], {
    agency: 'so-tttt',
    peer: '10.93.2.15:40514',
    firstSeq: 2000,
  });
}

function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function drained(deployment: ScaleDeployment, what: string): Promise<void> {
  await waitFor(
    async () => ((await deployment.pending()) === 0 ? true : undefined),
    what,
    60_000,
    () => deployment.output(),
  );
}

/** Incidents once they stop changing (the last batches' writes are visible after a refresh). */
async function settledIncidents(deployment: ScaleDeployment) {
  let previous = '';
  return waitFor(
    async () => {
      const now = comparableSet(await deployment.incidents());
      const text = JSON.stringify(now);
      const stable = text === previous && now.length > 0;
      previous = text;
      return stable ? now : undefined;
    },
    'incidents to settle',
    30_000,
    () => deployment.output(),
  );
}

const deployments: ScaleDeployment[] = [];
afterAll(async () => {
  await Promise.all(deployments.map((d) => d.close()));
});

describe('scale mode with several worker processes', () => {
  it('three workers fed a shuffled stream open exactly the incidents of one worker fed it in order', async () => {
    const one = new ScaleDeployment('one-worker');
    const three = new ScaleDeployment('three-workers');
    deployments.push(one, three);
    one.startWorker();
    for (let i = 0; i < 3; i++) three.startWorker();

    const records = phaseOne();
    await one.enqueue(batchesOf(records, 4, 'p1'));
    await three.enqueue(batchesOf(shuffled(records, 7), 4, 'p1'));
    await Promise.all([drained(one, 'one worker, phase 1'), drained(three, 'three workers, phase 1')]);
    await one.enqueue(batchesOf(phaseTwo(), 4, 'p2'));
    await three.enqueue(batchesOf(phaseTwo(), 4, 'p2'));
    await Promise.all([drained(one, 'one worker, phase 2'), drained(three, 'three workers, phase 2')]);

    const expected = await settledIncidents(one);
    const actual = await settledIncidents(three);
    expect(actual).toEqual(expected);

    // And what they are: the stream's attacks, each once, escalated where rules meet on one address.
    const summary = expected.map(
      (i) => `${i.rule} ${Object.values(i.groupBy).join(',')} ${i.detectionCount} ${i.severity}`,
    );
    expect(summary.sort()).toEqual(
      [
        'Port Scan Through The Firewall 203.0.113.99 1 high',
        'SSH Brute Force 198.51.100.20 1 critical',
        'SSH Brute Force 203.0.113.10 3 critical',
        'SSH Login Success After Brute Force 203.0.113.10 1 critical',
        'SSH Password Spraying 198.51.100.20 2 critical',
      ].sort(),
    );
    expect(await one.eventCount()).toBe(65);
    expect(await three.eventCount()).toBe(65);
  }, 180_000);

  it('a worker killed with SIGKILL mid-stream: its batch is re-run elsewhere, nothing lost or counted twice', async () => {
    const deployment = new ScaleDeployment('kill', ['queue: { worker_concurrency: 1, stall_timeout: 2s }']);
    deployments.push(deployment);
    const victim = deployment.startWorker();
    // 2,000 failures from one address, one per 100 ms, in 8 batches of 250.
    const lines = Array.from({ length: 2000 }, (_, i) =>
      sshd(i / 10, `Failed password for root from 203.0.113.66 port ${30000 + (i % 30000)} ssh2`),
    );
    await deployment.enqueue(
      batchesOf(recordsOf(lines, { agency: 'so-tttt', peer: '10.93.2.15:40514' }), 250, 'k'),
    );
    // Kill it once it is working on a batch and has written some of the stream.
    await waitFor(
      async () => ((await deployment.active()) > 0 && (await deployment.eventCount()) > 0 ? true : undefined),
      'the first worker to be mid-stream',
      60_000,
      () => deployment.output(),
    );
    const pendingAtKill = await deployment.pending();
    victim.child.kill('SIGKILL');
    expect(pendingAtKill).toBeGreaterThan(0);

    deployment.startWorker();
    await drained(deployment, 'the second worker to finish the stream');
    expect(await deployment.failed()).toBe(0);
    const incidents = await settledIncidents(deployment);
    expect(await deployment.eventCount()).toBe(2000);
    expect(incidents.map((i) => [i.rule, i.detectionCount, i.evidence.length])).toEqual([
      // 2,000 failures in 200 s: 200 brute-force firings of 10, each once; evidence is the last 100 events.
      // (Single failures feed the correlation and open no incident of their own.)
      ['SSH Brute Force', 200, 100],
    ]);
  }, 180_000);

  it('a worker stopped with SIGTERM finishes its batch and exits cleanly; the rest waits for the next worker', async () => {
    const deployment = new ScaleDeployment('graceful', [
      'queue: { worker_concurrency: 1, stall_timeout: 60s }',
    ]);
    deployments.push(deployment);
    const first = deployment.startWorker();
    const lines = Array.from({ length: 1500 }, (_, i) =>
      sshd(i / 10, `Failed password for root from 203.0.113.67 port ${30000 + i} ssh2`),
    );
    await deployment.enqueue(
      batchesOf(recordsOf(lines, { agency: 'so-tttt', peer: '10.93.2.15:40514' }), 250, 'g'),
    );
    await waitFor(
      async () => ((await deployment.active()) > 0 ? true : undefined),
      'the first worker to take a batch',
      60_000,
      () => deployment.output(),
    );
    const exited = new Promise<number | null>((resolve) => first.child.once('exit', (code) => resolve(code)));
    first.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Nothing is left half-done: no batch active (the stall timeout is a minute, so none was abandoned).
    expect(await deployment.active()).toBe(0);
    const leftOver = await deployment.pending();
    expect(leftOver).toBeGreaterThan(0);

    deployment.startWorker();
    await drained(deployment, 'the second worker to finish the stream');
    expect(await deployment.eventCount()).toBe(1500);
    const incidents = await settledIncidents(deployment);
    expect(incidents.map((i) => [i.rule, i.detectionCount])).toEqual([['SSH Brute Force', 150]]);
  }, 180_000);
});
