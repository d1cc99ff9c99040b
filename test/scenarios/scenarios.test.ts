/**
 * The attack scenarios of fixtures/scenarios/, end to end in both modes: the real `siem-lite serve` (and a
 * or three `worker`s in scale mode), one TCP listener per agency, each scenario sent by the real `siem-lite replay`
 * (every agency's sub-folder routed to its listener), and the incidents it opens — read through the API —
 * compared with its expected.yaml exactly. Scenarios run one after another in one deployment per mode; the
 * incidents a scenario opens are those that appear after it was replayed (the scenarios' addresses differ).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deleteIndices, ELASTICSEARCH_URL, REDIS_URL, uniquePrefix } from '../support/services.js';
import { freePort, type SiemProcess, startSiem, waitFor } from '../support/siem-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCENARIOS = join(ROOT, 'fixtures', 'scenarios');
const run = promisify(execFile);

interface ExpectedIncident {
  rule: string;
  agency: string;
  groupBy: Record<string, string>;
  severity: string;
  detections: number;
  firstSeen: string;
  lastSeen: string;
  evidence: number;
}

interface Scenario {
  name: string;
  agencies: string[];
  /** Replay this many times faster than recorded (the recorded gaps between phases are kept, compressed). */
  speed: number;
  incidents: ExpectedIncident[];
  lines: number;
}

function loadScenarios(): Scenario[] {
  return readdirSync(SCENARIOS, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => {
      const dir = join(SCENARIOS, entry.name);
      const expected = parse(readFileSync(join(dir, 'expected.yaml'), 'utf8')) as {
        agencies: string[];
        speed: number;
        incidents: ExpectedIncident[];
      };
      let lines = 0;
      for (const agency of expected.agencies) {
        for (const file of readdirSync(join(dir, agency))) {
          lines += readFileSync(join(dir, agency, file), 'utf8')
            .split('\n')
            .filter((l) => l.trim()).length;
        }
      }
      return {
        name: entry.name,
        agencies: expected.agencies,
        speed: expected.speed,
        incidents: expected.incidents,
        lines,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

const scenarios = loadScenarios();
const agencies = [...new Set(scenarios.flatMap((s) => s.agencies))].sort();

interface ApiIncident {
  id: string;
  ruleTitle: string;
  agency: string;
  groupBy: Record<string, string>;
  severity: string;
  status: string;
  detectionCount: number;
  firstSeen: string;
  lastSeen: string;
}

/** List items leave the evidence ids out: their count comes from the incident's own answer. */
const comparable = (i: ApiIncident & { evidenceEventIds: string[] }) => ({
  rule: i.ruleTitle,
  agency: i.agency,
  groupBy: i.groupBy,
  severity: i.severity,
  detections: i.detectionCount,
  firstSeen: i.firstSeen,
  lastSeen: i.lastSeen,
  evidence: i.evidenceEventIds.length,
});
const byKey = <T extends { rule: string; agency: string; groupBy: Record<string, string> }>(list: T[]) =>
  [...list].sort((a, b) => {
    const key = (x: T) => `${x.rule}|${x.agency}|${JSON.stringify(x.groupBy)}`;
    return key(a).localeCompare(key(b));
  });

const DEPLOYMENTS = [
  { label: 'embedded', mode: 'embedded', workers: 0 },
  { label: 'scale, 1 worker', mode: 'scale', workers: 1 },
  { label: 'scale, 3 workers', mode: 'scale', workers: 3 },
] as const;

describe.each(DEPLOYMENTS)('attack scenarios ($label)', ({ mode, workers }) => {
  const dir = mkdtempSync(join(tmpdir(), `siem-scenarios-${mode}-`));
  const prefix = uniquePrefix(`scenarios-${mode}`);
  const processes: SiemProcess[] = [];
  const ports: Record<string, number> = {};
  let apiUrl = '';
  let adminKey = '';
  const seen = new Set<string>();
  let linesSent = 0;

  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${apiUrl}${path}`, { headers: { authorization: `Bearer ${adminKey}` } });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  const output = () => processes.map((p) => p.output()).join('\n');

  beforeAll(async () => {
    const apiPort = await freePort();
    for (const agency of agencies) ports[agency] = await freePort();
    const config = join(dir, 'siem-lite.yaml');
    writeFileSync(
      config,
      [
        `mode: ${mode}`,
        `data_dir: ${join(dir, 'data')}`,
        'log_level: warn',
        `elasticsearch: { url: "${ELASTICSEARCH_URL}", index_prefix: ${prefix} }`,
        `redis: { url: "${REDIS_URL}", prefix: ${prefix} }`,
        `api: { host: 127.0.0.1, port: ${apiPort} }`,
        'ingest:',
        '  batch_max_wait: 50ms',
        '  listeners:',
        ...agencies.map(
          (agency) =>
            `    - { id: tcp-${agency}, transport: tcp, host: 127.0.0.1, port: ${ports[agency]}, agency: ${agency} }`,
        ),
      ].join('\n'),
    );
    processes.push(startSiem(['serve', '--config', config]));
    for (let i = 0; i < workers; i++) processes.push(startSiem(['worker', '--config', config]));
    apiUrl = `http://127.0.0.1:${apiPort}`;
    await waitFor(
      async () => ((await fetch(`${apiUrl}/healthz`)).ok ? true : undefined),
      'API',
      150_000,
      output,
    );
    adminKey = readFileSync(join(dir, 'data', 'admin.key'), 'utf8').trim();
    // Up to four processes (serve + workers) start at once: on a loaded 2-core machine that takes well
    // over the default hook timeout.
  }, 180_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    if (mode === 'scale') {
      await deleteIndices(prefix);
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(scenarios.map((s) => [s.name, s] as const))(
    '%s opens exactly its expected incidents',
    async (_name, scenario) => {
      const [first, ...others] = scenario.agencies;
      await run(
        process.execPath,
        [
          '--import',
          'tsx',
          'bin/main.ts',
          'replay',
          join(SCENARIOS, scenario.name),
          '--target',
          `tcp://127.0.0.1:${ports[first!]}`,
          ...others.flatMap((agency) => ['--route', `${agency}=tcp://127.0.0.1:${ports[agency]}`]),
          '--route',
          `${first}=tcp://127.0.0.1:${ports[first!]}`,
          '--keep-times',
          '--rate',
          '0',
          '--quiet',
        ],
        { cwd: ROOT },
      );
      linesSent += scenario.lines;
      await waitFor(
        async () => {
          const page = await api<{ total: number }>('/api/events?limit=1');
          return page.total >= linesSent ? page.total : undefined;
        },
        `${linesSent} events indexed`,
        30_000,
        output,
      );
      // Incidents settle right after their batch is indexed: read until three reads a second apart agree
      // (the machine may be loaded; a batch's incident writes follow its index write).
      let previous = '';
      let agreeing = 0;
      const incidents = await waitFor(
        async () => {
          const list = await api<{ incidents: ApiIncident[] }>('/api/incidents?limit=1000');
          const fresh = list.incidents.filter((i) => !seen.has(i.id));
          const text = JSON.stringify(byKey(fresh.map((i) => comparable({ ...i, evidenceEventIds: [] }))));
          agreeing = text === previous ? agreeing + 1 : 0;
          previous = text;
          if (agreeing < 2) {
            await new Promise((resolve) => setTimeout(resolve, 1000));
            return undefined;
          }
          const whole = await Promise.all(
            fresh.map(
              async (i) =>
                (
                  await api<{ incident: ApiIncident & { evidenceEventIds: string[] } }>(
                    `/api/incidents/${encodeURIComponent(i.id)}`,
                  )
                ).incident,
            ),
          );
          return { mine: byKey(whole.map(comparable)), ids: list.incidents.map((i) => i.id) };
        },
        'incidents to settle',
        30_000,
        output,
      );
      for (const id of incidents.ids) seen.add(id);
      expect(incidents.mine).toEqual(byKey(scenario.incidents));
    },
    120_000,
  );
});
