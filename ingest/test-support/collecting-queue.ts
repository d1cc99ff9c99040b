import type { RawRecord, RecordBatch } from '../../core/model.js';
import type { RecordQueue } from '../../core/ports.js';

/** A RecordQueue that keeps what it is given: the project's own port, not a stand-in for Redis. */
export class CollectingQueue implements RecordQueue {
  batches: RecordBatch[] = [];
  full = false;
  async enqueue(batch: RecordBatch): Promise<void> {
    this.batches.push(batch);
  }
  saturated(): boolean {
    return this.full;
  }
  async depth(): Promise<number> {
    return this.batches.length;
  }
  async close(): Promise<void> {}
  get records(): RawRecord[] {
    return this.batches.flatMap((batch) => batch.records);
  }
}

export async function until(
  condition: () => boolean,
  timeoutMs = 5000,
  what = 'the condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
