/**
 * Windows events rendered from evtx as JSON (`{"Event":{"System":{...},"EventData":{...}}}`, one or more
 * objects concatenated in a file, as SigmaHQ's regression data has them).
 *
 * `evtxToWinlogbeat` is a stand-in for ingest's Windows agent normaliser (issue 3) until it exists: it writes
 * only the Winlogbeat fields the Windows pipeline reads (`winlog.channel`, `winlog.provider_name`,
 * `winlog.computer_name`, `winlog.event_data.*`, `event.code`), so a pass here shows the pipeline and the
 * rules agree, and the real normaliser must write at least these.
 */

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

type Json = Record<string, unknown>;

function attr(node: unknown, name: string): unknown {
  if (node === null || typeof node !== 'object') return undefined;
  return ((node as Json)['#attributes'] as Json | undefined)?.[name];
}

function text(node: unknown): unknown {
  if (node !== null && typeof node === 'object' && '#text' in (node as Json)) return (node as Json)['#text'];
  return node;
}

function dataFields(section: unknown, out: Json): void {
  if (section === null || typeof section !== 'object') return;
  for (const [key, value] of Object.entries(section as Json)) {
    if (key === '#attributes') continue;
    // UserData wraps its fields in one element named after the event (e.g. {"EventXML": {...}}).
    if (
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      !('#text' in (value as Json))
    ) {
      dataFields(value, out);
    } else {
      out[key] = text(value);
    }
  }
}

export function evtxToWinlogbeat(record: unknown): Json {
  const event = (record as Json).Event as Json;
  const system = event.System as Json;
  const eventData: Json = {};
  dataFields(event.EventData, eventData);
  dataFields(event.UserData, eventData);
  const code = String(text(system.EventID));
  const time = attr(system.TimeCreated, 'SystemTime');
  return {
    '@timestamp': typeof time === 'string' ? time : new Date(0).toISOString(),
    event: { code, provider: attr(system.Provider, 'Name') },
    winlog: {
      channel: system.Channel,
      computer_name: system.Computer,
      provider_name: attr(system.Provider, 'Name'),
      event_id: code,
      event_data: eventData,
    },
    host: { name: system.Computer },
  };
}
