/**
 * A scale-mode deployment for end-to-end tests of the workers: its own Elasticsearch index prefix and Redis
 * key prefix, `siem-lite worker` processes started from the real CLI, batches queued straight into BullMQ
 * (so a test controls exactly which records form which batch, and in which order), and the incidents read
 * back from the store.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createLogger } from '../../core/logger.js';
import type { Incident, RawRecord, RecordBatch } from '../../core/model.js';
import { BullRecordQueue, RECORDS_QUEUE } from '../../correlator/queue/bullmq.js';
import { createElasticsearchStores } from '../../store/elasticsearch/index.js';
import { deleteIndices, ELASTICSEARCH_URL, REDIS_URL, uniquePrefix } from './services.js';
import { type SiemProcess, startSiem } from './siem-process.js';

const logger = createLogger({ level: 'silent' });

export class ScaleDeployment {
  readonly prefix: string;
  readonly configFile: string;
  readonly workers: SiemProcess[] = [];
  private readonly dir: string;
  private readonly queue: BullRecordQueue;
  private readonly bull: Queue;
  private readonly redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  private readonly stores;

  constructor(label: string, extraConfig: string[] = []) {
    this.prefix = uniquePrefix(label);
    this.dir = mkdtempSync(join(tmpdir(), `siem-${label}-`));
    this.configFile = join(this.dir, 'siem-lite.yaml');
    writeFileSync(
      this.configFile,
      [
        'mode: scale',
        `data_dir: ${join(this.dir, 'data')}`,
        'log_level: warn',
        `elasticsearch: { url: "${ELASTICSEARCH_URL}", index_prefix: ${this.prefix} }`,
        `redis: { url: "${REDIS_URL}", prefix: ${this.prefix} }`,
        ...extraConfig,
      ].join('\n'),
    );
    this.queue = new BullRecordQueue({
      redisUrl: REDIS_URL,
      prefix: this.prefix,
      maxPendingBatches: 10_000,
      logger,
    });
    this.bull = new Queue(RECORDS_QUEUE, { connection: this.redis, prefix: this.prefix });
    this.stores = createElasticsearchStores({ url: ELASTICSEARCH_URL, indexPrefix: this.prefix, logger });
  }

  startWorker(): SiemProcess {
    const worker = startSiem(['worker', '--config', this.configFile]);
    this.workers.push(worker);
    return worker;
  }

  async enqueue(batches: RecordBatch[]): Promise<void> {
    for (const batch of batches) await this.queue.enqueue(batch);
  }

  /** Batches waiting, delayed or in a worker's hands. */
  async pending(): Promise<number> {
    return this.queue.depth();
  }

  async active(): Promise<number> {
    return this.bull.getActiveCount();
  }

  async failed(): Promise<number> {
    return this.bull.getFailedCount();
  }

  async incidents(): Promise<Incident[]> {
    await this.stores.incidents.init();
    await this.stores.incidents.refresh();
    return this.stores.incidents.list({ limit: 1000 });
  }

  async eventCount(): Promise<number> {
    await this.stores.events.init();
    await this.stores.events.refresh();
    return this.stores.events.count({});
  }

  output(): string {
    return this.workers.map((w) => w.output()).join('\n');
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
    await this.queue.close();
    await this.bull.close();
    this.redis.disconnect();
    await this.stores.close();
    await deleteIndices(this.prefix);
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${this.prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Raw records as a TCP listener would have made them, with fixed identities (so runs are comparable). */
export function recordsOf(
  lines: string[],
  options: { agency: string; peer: string; firstSeq?: number },
): RawRecord[] {
  return lines.map((text, i) => ({
    text,
    receivedAt: Date.UTC(2026, 10, 26, 3, 0, 0) + i,
    transport: 'tcp',
    peer: options.peer,
    listener: 'syslog-tcp',
    agency: options.agency,
    seq: (options.firstSeq ?? 0) + i,
  }));
}

export function batchesOf(records: RawRecord[], size: number, label: string): RecordBatch[] {
  const batches: RecordBatch[] = [];
  for (let i = 0; i < records.length; i += size) {
    batches.push({ id: `${label}-${i / size}`, records: records.slice(i, i + size) });
  }
  return batches;
}

/**
 * An incident as two runs can compare it: what it says about the attack, without ids, wall-clock times,
 * batch ids or the order evidence arrived in.
 */
export function comparable(incident: Incident) {
  return {
    rule: incident.ruleTitle,
    agency: incident.agency,
    groupBy: incident.groupBy,
    severity: incident.severity,
    status: incident.status,
    detectionCount: incident.detectionCount,
    firstSeen: incident.firstSeen,
    lastSeen: incident.lastSeen,
    evidence: [...incident.evidenceEventIds].sort(),
    tactics: [...incident.tactics].sort(),
    techniques: [...incident.techniques].sort(),
  };
}

export function comparableSet(incidents: Incident[]) {
  return incidents.map(comparable).sort((a, b) => {
    const key = (x: typeof a) => `${x.rule}|${JSON.stringify(x.groupBy)}|${x.agency}`;
    return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
  });
}
