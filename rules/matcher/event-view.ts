/**
 * Reading fields out of events for the matcher. A rule set numbers every field its rules read (a slot);
 * an EventView resolves each slot at most once per event and caches the values and their lower-case
 * forms, so a thousand rules testing `process.command_line` walk and lower-case it once.
 *
 * Field paths are dotted (`source.ip`); they resolve through nested objects (ECS), through flat dotted
 * keys (`{"source.ip": ...}`) or a mix, and through arrays (any element may match).
 */

export type FieldAccessor = (root: unknown) => unknown[];

export function compileAccessor(field: string): FieldAccessor {
  const segments = field.split('.');
  if (segments.length === 1) {
    return (root) => {
      const out: unknown[] = [];
      if (root !== null && typeof root === 'object') pushLeaf((root as Record<string, unknown>)[field], out);
      return out;
    };
  }
  return (root) => {
    const out: unknown[] = [];
    collect(root, segments, 0, out);
    return out;
  };
}

function collect(node: unknown, segments: string[], index: number, out: unknown[]): void {
  if (index === segments.length) {
    pushLeaf(node, out);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const item of node) collect(item, segments, index, out);
    return;
  }
  const record = node as Record<string, unknown>;
  const child = record[segments[index]!];
  if (child !== undefined) collect(child, segments, index + 1, out);
  // Flat keys holding dots (`{"winlog.event_data": {...}}` or `{"source.ip": ...}`).
  let key = segments[index]!;
  for (let j = index + 1; j < segments.length; j++) {
    key += `.${segments[j]}`;
    const flat = record[key];
    if (flat !== undefined) collect(flat, segments, j + 1, out);
  }
}

function pushLeaf(value: unknown, out: unknown[]): void {
  if (value === undefined) return;
  if (Array.isArray(value)) {
    for (const item of value) pushLeaf(item, out);
    return;
  }
  out.push(value);
}

/** Every primitive leaf of an event (for keyword search when no keyword fields are configured). */
export function allLeaves(root: unknown): unknown[] {
  const out: unknown[] = [];
  const visit = (node: unknown) => {
    if (node === null || node === undefined) return;
    if (Array.isArray(node)) for (const item of node) visit(item);
    else if (typeof node === 'object') for (const value of Object.values(node)) visit(value);
    else out.push(node);
  };
  visit(root);
  return out;
}

/** Field name → slot number, shared by every rule compiled into one set. */
export class FieldTable {
  private readonly slots = new Map<string, number>();
  readonly accessors: FieldAccessor[] = [];
  readonly names: string[] = [];

  slot(field: string, accessor: FieldAccessor = compileAccessor(field)): number {
    let slot = this.slots.get(field);
    if (slot === undefined) {
      slot = this.accessors.length;
      this.slots.set(field, slot);
      this.accessors.push(accessor);
      this.names.push(field);
    }
    return slot;
  }

  get size(): number {
    return this.accessors.length;
  }
}

/** String form of a primitive value as Sigma compares it (`4625` ≡ `"4625"`); undefined for null/objects. */
export function stringOf(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    default:
      return undefined;
  }
}

/** One event as the compiled rules see it: lazily resolved, cached field values. */
export class EventView {
  private readonly valueCache: (unknown[] | undefined)[];
  private readonly stringCache: (string[] | undefined)[];
  private readonly lowerCache: (string[] | undefined)[];

  constructor(
    readonly event: unknown,
    private readonly table: FieldTable,
  ) {
    const n = table.size;
    this.valueCache = new Array(n);
    this.stringCache = new Array(n);
    this.lowerCache = new Array(n);
  }

  values(slot: number): unknown[] {
    let values = this.valueCache[slot];
    if (values === undefined) {
      values = this.table.accessors[slot]!(this.event);
      this.valueCache[slot] = values;
    }
    return values;
  }

  strings(slot: number): string[] {
    let strings = this.stringCache[slot];
    if (strings === undefined) {
      strings = [];
      for (const value of this.values(slot)) {
        const s = stringOf(value);
        if (s !== undefined) strings.push(s);
      }
      this.stringCache[slot] = strings;
    }
    return strings;
  }

  lowerStrings(slot: number): string[] {
    let lower = this.lowerCache[slot];
    if (lower === undefined) {
      const strings = this.strings(slot);
      lower = strings.length === 1 ? [strings[0]!.toLowerCase()] : strings.map((s) => s.toLowerCase());
      this.lowerCache[slot] = lower;
    }
    return lower;
  }
}
