/**
 * Windows events rendered from evtx as JSON (`{"Event":{"System":{...},"EventData":{...}}}`, one or more
 * objects concatenated in a file, as SigmaHQ's regression data has them), and their way into siem-lite:
 * posted by a Windows agent over HTTP and normalised by the real normaliser, as in production.
 */
import { AgencyDirectory } from '../../core/agencies.js';
import type { SecurityEvent } from '../../core/model.js';
import { createNormaliser } from '../../ingest/normalise.js';

/** Splits concatenated JSON documents (`{...}\n{...}`) and parses each. */
export function parseConcatenatedJson(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') {
      if (depth === 0) start = i;
      depth++;
    } else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
    }
  }
  return out;
}

const normalise = createNormaliser({ agencies: new AgencyDirectory([]), defaultTimezone: 'UTC' });
let seq = 0;

/** Normalises agent JSON documents exactly as HTTP ingest hands them to the worker. */
export function normaliseAgentJson(documents: unknown[], agency = 'regression'): SecurityEvent[] {
  return normalise(
    documents.map((document) => ({
      text: JSON.stringify(document),
      receivedAt: Date.parse('2026-01-01T00:00:00Z'),
      transport: 'http' as const,
      peer: '127.0.0.1',
      listener: 'http',
      agency,
      seq: ++seq,
    })),
  );
}
