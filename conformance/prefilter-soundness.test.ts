/**
 * The matcher's prefilter must be sound: it may let a rule through that then does not match, never hold back
 * one that would. Over the whole SigmaHQ corpus (plus the bundled pack) and real events — SigmaHQ's
 * regression events, OTRF captures (NXLog-style JSON), loghub's syslog files, all through the real
 * normaliser — the rules that fire with the prefilter are exactly those that fire when every rule is
 * evaluated on every event.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgencyDirectory } from '../core/agencies.js';
import type { RawRecord, SecurityEvent } from '../core/model.js';
import { createNormaliser } from '../ingest/normalise.js';
import { BUNDLED_PACK, CompiledRuleSet, loadRuleSet, type SigmaRule } from '../rules/index.js';
import { normaliseAgentJson, parseConcatenatedJson } from './support/evtx.js';
import { SHARED_DATA } from './support/shared-data.js';

const DATA = SHARED_DATA;
/** OTRF events taken: evaluating 3,000 rules without the prefilter costs ~1 ms per event. */
const OTRF_EVENTS = 3_000;

const normalise = createNormaliser({
  agencies: new AgencyDirectory([]),
  defaultTimezone: 'Asia/Ho_Chi_Minh',
});

function records(texts: string[], transport: RawRecord['transport']): RawRecord[] {
  return texts.map((text, seq) => ({
    text,
    receivedAt: Date.parse('2026-11-26T03:00:00Z'),
    transport,
    peer: '10.93.2.10:514',
    listener: 'conformance',
    seq,
  }));
}

function regressionEvents(dir: string, out: SecurityEvent[] = []): SecurityEvent[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) regressionEvents(path, out);
    else if (entry.name.endsWith('.json'))
      out.push(...normaliseAgentJson(parseConcatenatedJson(readFileSync(path, 'utf8'))));
  }
  return out;
}

function otrfEvents(limit: number): SecurityEvent[] {
  const zips = join(DATA, 'windows/otrf/zips');
  const out: SecurityEvent[] = [];
  for (const zip of readdirSync(zips).filter((name) => name.endsWith('.zip'))) {
    if (out.length >= limit) break;
    const listing = execFileSync('unzip', ['-Z1', join(zips, zip)], { encoding: 'utf8' });
    if (!listing.split('\n').some((name) => name.endsWith('.json'))) continue;
    const text = execFileSync('unzip', ['-p', join(zips, zip), '*.json'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    // A few hundred from each capture, so many techniques are represented.
    const docs = text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .slice(0, 300);
    out.push(...normalise(records(docs, 'http')));
  }
  return out.slice(0, limit);
}

function syslogEvents(): SecurityEvent[] {
  const dir = join(DATA, 'logs/loghub');
  const lines = readdirSync(dir)
    .filter((name) => name.endsWith('.log'))
    .flatMap((name) =>
      readFileSync(join(dir, name), 'utf8')
        .split(/\r?\n/)
        .filter((line) => line.trim() !== ''),
    );
  return normalise(records(lines, 'tcp'));
}

describe('matcher prefilter over the SigmaHQ corpus', () => {
  it('fires exactly the rules that evaluating every rule on every event fires', () => {
    if (!existsSync(join(DATA, 'sigma/rules'))) {
      throw new Error(`${DATA}/sigma/rules is absent: the conformance checks need ../shared/data`);
    }
    const corpus = loadRuleSet({ packs: [join(DATA, 'sigma/rules'), BUNDLED_PACK] });
    const detections = corpus.rules.filter(
      (r): r is Extract<SigmaRule, { kind: 'detection' }> => r.kind === 'detection',
    );
    const withPrefilter = new CompiledRuleSet(corpus.pipeline, { prefilter: true });
    const everyRule = new CompiledRuleSet(corpus.pipeline, { prefilter: false });
    for (const rule of detections) {
      withPrefilter.add(rule);
      everyRule.add(rule);
    }
    expect(withPrefilter.rules.length).toBeGreaterThan(3000);

    const sources = {
      regression: regressionEvents(join(DATA, 'sigma/regression')),
      otrf: otrfEvents(OTRF_EVENTS),
      loghub: syslogEvents(),
    };
    const events = Object.values(sources).flat();
    console.log(
      Object.entries(sources)
        .map(([name, list]) => `${name} ${list.length}`)
        .join(', '),
    );
    expect(events.length).toBeGreaterThan(3_000);
    const fired = (ruleSet: CompiledRuleSet, event: SecurityEvent) =>
      ruleSet
        .match(event)
        .map((m) => m.rule.id)
        .sort()
        .join(',');
    const differences: string[] = [];
    let matches = 0;
    for (const event of events) {
      const expected = fired(everyRule, event);
      const actual = fired(withPrefilter, event);
      if (expected !== '') matches++;
      if (actual !== expected && differences.length < 20) {
        differences.push(`${event.event?.id}: prefilter [${actual}] vs every rule [${expected}]`);
      }
    }
    console.log(
      `prefilter soundness: ${events.length} events, ${matches} with a match, ${differences.length} differ`,
    );
    expect(differences).toEqual([]);
    // The check means something only if rules fire on these events.
    expect(matches).toBeGreaterThan(200);
  });
});
