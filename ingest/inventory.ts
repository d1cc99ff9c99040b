import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { SecurityEvent } from '../core/model.js';
import { peerAddress } from './normalise.js';

/** One source as the SOC sees it: an agency's host sending one kind of log. */
export interface SourceEntry {
  agency: string;
  host: string;
  /** `event.dataset` of its events (`system.auth`, `fortinet.firewall`, ...), `generic` when none. */
  parser: string;
  firstSeen: string;
  lastSeen: string;
  count: number;
  /** Events in the last complete minute it sent in. */
  ratePerMinute: number;
}

interface Tracked {
  entry: SourceEntry;
  firstMs: number;
  lastMs: number;
  minute: number;
  minuteCount: number;
}

const MINUTE_MS = 60_000;

/**
 * The source inventory: every (agency, host, parser) seen, with first/last seen, counts and a rate. Fed with
 * each normalised batch (worker side, where host and parser are known); snapshots from several workers or
 * from disk merge (earliest first seen, latest last seen, summed counts). It feeds the "silent source"
 * signal: `silent()` lists sources not heard from for a while.
 */
export class SourceInventory {
  private readonly sources = new Map<string, Tracked>();

  observe(events: readonly SecurityEvent[], now = Date.now()): void {
    const minute = Math.floor(now / MINUTE_MS);
    for (const event of events) {
      const host = hostOf(event);
      const parser = event.event.dataset ?? 'generic';
      const key = `${event.agency.id}\u0000${host}\u0000${parser}`;
      let tracked = this.sources.get(key);
      if (!tracked) {
        const iso = new Date(now).toISOString();
        tracked = {
          entry: {
            agency: event.agency.id,
            host,
            parser,
            firstSeen: iso,
            lastSeen: iso,
            count: 0,
            ratePerMinute: 0,
          },
          firstMs: now,
          lastMs: now,
          minute,
          minuteCount: 0,
        };
        this.sources.set(key, tracked);
      }
      if (minute !== tracked.minute) {
        tracked.entry.ratePerMinute = minute === tracked.minute + 1 ? tracked.minuteCount : 0;
        tracked.minute = minute;
        tracked.minuteCount = 0;
      }
      tracked.minuteCount++;
      tracked.entry.count++;
      if (now > tracked.lastMs) tracked.lastMs = now;
    }
  }

  /** A snapshot, most recently seen first. */
  entries(): SourceEntry[] {
    return [...this.sources.values()]
      .map((tracked) => ({
        ...tracked.entry,
        firstSeen: new Date(tracked.firstMs).toISOString(),
        lastSeen: new Date(tracked.lastMs).toISOString(),
      }))
      .sort((a, b) => b.lastSeen.localeCompare(a.lastSeen) || a.agency.localeCompare(b.agency));
  }

  /** Sources last seen more than `quietMs` ago. */
  silent(quietMs: number, now = Date.now()): SourceEntry[] {
    return this.entries().filter((entry) => now - Date.parse(entry.lastSeen) > quietMs);
  }

  /** Folds in a snapshot (another worker's, or the persisted one). */
  merge(entries: readonly SourceEntry[]): void {
    for (const entry of entries) {
      const key = `${entry.agency}\u0000${entry.host}\u0000${entry.parser}`;
      const firstMs = Date.parse(entry.firstSeen);
      const lastMs = Date.parse(entry.lastSeen);
      if (!Number.isFinite(firstMs) || !Number.isFinite(lastMs)) continue;
      const tracked = this.sources.get(key);
      if (!tracked) {
        this.sources.set(key, { entry: { ...entry }, firstMs, lastMs, minute: 0, minuteCount: 0 });
        continue;
      }
      tracked.firstMs = Math.min(tracked.firstMs, firstMs);
      tracked.lastMs = Math.max(tracked.lastMs, lastMs);
      tracked.entry.count += entry.count;
      tracked.entry.ratePerMinute = Math.max(tracked.entry.ratePerMinute, entry.ratePerMinute);
    }
  }
}

/** The host a source is known by: the name it gives, else the address it sends from. */
function hostOf(event: SecurityEvent): string {
  const host = event.host as { hostname?: string; name?: string } | undefined;
  const name = host?.hostname ?? host?.name;
  if (name) return name.toLowerCase();
  const address = (event.log as { source?: { address?: string } } | undefined)?.source?.address;
  return address ? peerAddress(address) : 'unknown';
}

/**
 * Persists an inventory as JSON in a file (embedded mode: `<data_dir>/sources.json`), written atomically
 * (temp file + rename) so that a crash never leaves half a file.
 */
export class SourceInventoryFile {
  constructor(private readonly path: string) {}

  async load(): Promise<SourceEntry[]> {
    try {
      const parsed = JSON.parse(await readFile(this.path, 'utf8')) as { sources?: SourceEntry[] };
      return Array.isArray(parsed.sources) ? parsed.sources : [];
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new Error(`${this.path}: cannot read the source inventory (${(error as Error).message})`);
    }
  }

  async save(entries: readonly SourceEntry[]): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    await writeFile(
      temporary,
      `${JSON.stringify({ savedAt: new Date().toISOString(), sources: entries }, null, 1)}\n`,
    );
    await rename(temporary, this.path);
  }
}
