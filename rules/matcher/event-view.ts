/**
 * Reading fields out of events for the matcher. A rule set numbers every field its rules read (a slot);
 * an EventView resolves each slot at most once per event and caches the values and their lower-case
 * forms, so a thousand rules testing `process.command_line` walk and lower-case it once.
 *
 * Field paths are dotted (`source.ip`); they resolve through nested objects (ECS), through flat dotted
 * keys (`{"source.ip": ...}`) or a mix, and through arrays (any element may match).
 */

export type FieldAccessor = (root: unknown) => unknown[];

/**
 * Reads a field out of an event: undefined when absent, an array for several values (flat: never nested
 * arrays, never undefined), otherwise the one value. Returning a single value as itself saves an array per
 * field and event; the EventView keeps one reusable array per field for it.
 */
export type LeafReader = (root: unknown) => unknown;

/** Shared result for an absent field: accessors allocate nothing when there is nothing to return. */
const NONE: unknown[] = [];
Object.freeze(NONE);

/** A field's values as a list (any may match; empty when absent). */
export function compileAccessor(field: string): FieldAccessor {
  const read = compileLeafReader(field);
  return (root) => {
    const found = read(root);
    return found === undefined ? NONE : Array.isArray(found) ? found : [found];
  };
}

export function compileLeafReader(field: string): LeafReader {
  const segments = field.split('.');
  if (segments.length === 1) {
    return (root) => {
      if (root === null || typeof root !== 'object') return undefined;
      return leafValues((root as Record<string, unknown>)[field]);
    };
  }
  const collect = (node: unknown, index: number, out: unknown[]): void => {
    if (index === segments.length) {
      pushLeaf(node, out);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) collect(item, index, out);
      return;
    }
    const child = (node as Record<string, unknown>)[segments[index]!];
    if (child !== undefined) collect(child, index + 1, out);
  };
  return (root) => {
    // Fast path: plain nested objects all the way down.
    let node = root;
    let i = 0;
    for (; i < segments.length; i++) {
      if (node === null || typeof node !== 'object') return undefined;
      if (Array.isArray(node)) break;
      node = (node as Record<string, unknown>)[segments[i]!];
      if (node === undefined) return undefined;
    }
    if (i === segments.length) return leafValues(node);
    // An array on the way: any element may hold the rest of the path.
    const out: unknown[] = [];
    collect(node, i, out);
    return out.length === 0 ? undefined : out;
  };
}

/**
 * Events with dotted keys (`{"source.ip": ...}`, as some shippers send them) in ECS's nested shape, as
 * Elasticsearch and the stores read them. The matcher reads nested paths only, so inputs are expanded
 * once at the edge (the normaliser, `rules test --ecs`) instead of on every field access.
 */
export function expandDottedKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(expandDottedKeys) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const parts = key.split('.');
    // Assigning `__proto__` would set a copy's prototype, and walking it would write into Object.prototype
    // (events come from files and agents): such keys are left out, as the store's shape check does.
    if (parts.includes('__proto__')) continue;
    const expanded = expandDottedKeys(child);
    let node = out;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      if (next === null || typeof next !== 'object' || Array.isArray(next)) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    const last = parts[parts.length - 1]!;
    const existing = node[last];
    node[last] =
      existing !== null &&
      typeof existing === 'object' &&
      !Array.isArray(existing) &&
      typeof expanded === 'object'
        ? { ...(existing as object), ...(expanded as object) }
        : expanded;
  }
  return out as T;
}

/** A field's value as an accessor returns it: arrays are flattened (copied only when nested or holey). */
function leafValues(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  for (let i = 0; i < value.length; i++) {
    const item = value[i];
    if (item === undefined || Array.isArray(item)) {
      const out: unknown[] = [];
      pushLeaf(value, out);
      return out.length === 0 ? undefined : out;
    }
  }
  return value.length === 0 ? undefined : value;
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

/** One level of a FieldGroup: the keys to read here, and for each the field it ends and the level below. */
interface PathNode {
  keys: string[];
  /** The slot of the field whose path ends at keys[i], or -1. */
  slots: Int32Array;
  children: (PathNode | null)[];
  /** Every slot at or below this level. */
  under: Int32Array;
  /** Key → position in `keys`, when the walk goes through the object's own keys at this level. */
  index: Map<string, number> | null;
}

/**
 * From this many keys at one level, the walk enumerates an object's own keys rather than looking each key
 * up: at the top, the routing fields of a thousand SigmaHQ rules start with 16 names, an event has ~10.
 */
const ENUMERATE_FROM = 8;

/** Fields read together by `EventView.readGroup`: their dotted paths as a tree, shared prefixes once. */
export class FieldGroup {
  readonly root: PathNode;
  /** One more than the highest slot. */
  readonly slotCount: number;

  constructor(table: FieldTable, slots: readonly number[]) {
    interface Building {
      keys: Map<string, { slot: number; child: Building | null }>;
      under: number[];
    }
    const top: Building = { keys: new Map(), under: [] };
    for (const slot of slots) {
      const segments = table.names[slot]!.split('.');
      let level = top;
      level.under.push(slot);
      for (let i = 0; i < segments.length; i++) {
        let entry = level.keys.get(segments[i]!);
        if (!entry) {
          entry = { slot: -1, child: null };
          level.keys.set(segments[i]!, entry);
        }
        if (i === segments.length - 1) entry.slot = slot;
        else {
          entry.child ??= { keys: new Map(), under: [] };
          level = entry.child;
          level.under.push(slot);
        }
      }
    }
    const freeze = (level: Building): PathNode => {
      const entries = [...level.keys];
      // A key a prototype supplies (`constructor`, `__proto__`…) is read by a lookup but not enumerated.
      const enumerate =
        entries.length >= ENUMERATE_FROM && entries.every(([key]) => !(key in Object.prototype));
      return {
        index: enumerate ? new Map(entries.map(([key], i) => [key, i])) : null,
        keys: entries.map(([key]) => key),
        slots: Int32Array.from(entries.map(([, e]) => e.slot)),
        children: entries.map(([, e]) => (e.child ? freeze(e.child) : null)),
        under: Int32Array.from(level.under),
      };
    };
    this.root = freeze(top);
    this.slotCount = slots.reduce((max, slot) => Math.max(max, slot + 1), 0);
  }
}

/** Field name → slot number, shared by every rule compiled into one set. */
export class FieldTable {
  private readonly slots = new Map<string, number>();
  readonly accessors: LeafReader[] = [];
  readonly names: string[] = [];

  slot(field: string, accessor: LeafReader = compileLeafReader(field)): number {
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

/**
 * One event as the compiled rules see it: lazily resolved, cached field values. A view is reusable: `reset`
 * points it at the next event, and epoch stamps (not clearing) invalidate the caches, so matching allocates
 * nothing per event beyond the values it reads.
 */
export class EventView {
  event: unknown = undefined;
  private valueCache: unknown[][] = [];
  private stringCache: string[][] = [];
  private lowerCache: string[][] = [];
  /** Per slot, a one-element array reused for fields with one value (most), and one for its lower case. */
  private single: unknown[][] = [];
  private lowerSingle: string[][] = [];
  private valueStamp = new Uint32Array(0);
  private stringStamp = new Uint32Array(0);
  private lowerStamp = new Uint32Array(0);
  private epoch = 0;

  constructor(
    event: unknown,
    private readonly table: FieldTable,
  ) {
    this.reset(event);
  }

  /** Points the view at another event. Arrays returned for the previous event may be reused. */
  reset(event: unknown): this {
    this.event = event;
    const n = this.table.size;
    if (this.valueStamp.length < n) {
      const size = Math.max(n, this.valueStamp.length * 2, 16);
      this.valueStamp = new Uint32Array(size);
      this.stringStamp = new Uint32Array(size);
      this.lowerStamp = new Uint32Array(size);
      this.epoch = 0;
    }
    this.epoch++;
    if (this.epoch === 0xffffffff) {
      this.valueStamp.fill(0);
      this.stringStamp.fill(0);
      this.lowerStamp.fill(0);
      this.epoch = 1;
    }
    return this;
  }

  private grow(slot: number): void {
    // A slot registered after reset (explanations compile lazily): widen the stamps, keeping this epoch.
    const size = Math.max(slot + 1, this.valueStamp.length * 2);
    for (const key of ['valueStamp', 'stringStamp', 'lowerStamp'] as const) {
      const wider = new Uint32Array(size);
      wider.set(this[key]);
      this[key] = wider;
    }
  }

  values(slot: number): unknown[] {
    if (slot >= this.valueStamp.length) this.grow(slot);
    if (this.valueStamp[slot] === this.epoch) return this.valueCache[slot]!;
    return this.store(slot, this.table.accessors[slot]!(this.event));
  }

  /**
   * Reads every field of the group in one walk of the event (each object on their paths read once, not
   * once per field), caching them as `values` would: the prefilter reads its two dozen routing fields on
   * every event (`event.code`, `event.module`, `winlog.channel`, …), and most are absent.
   */
  readGroup(group: FieldGroup): void {
    if (group.slotCount > this.valueStamp.length) this.grow(group.slotCount - 1);
    const root = this.event;
    if (root === null || typeof root !== 'object' || Array.isArray(root)) {
      for (const slot of group.root.under) this.values(slot);
      return;
    }
    // Absent unless the walk finds them (most are: each event source has its own few).
    for (const slot of group.root.under) this.store(slot, undefined);
    this.walk(root as Record<string, unknown>, group.root);
  }

  private walk(node: Record<string, unknown>, path: PathNode): void {
    if (path.index !== null) {
      // More keys to look for than an object usually holds: go through its own keys instead (in a
      // `for…in`, V8 reads `node[key]` through the enumeration cache, not a generic keyed lookup). Only
      // for levels whose keys no prototype supplies (FieldGroup), so own keys are all there is to find.
      for (const key in node) {
        const i = path.index.get(key);
        if (i !== undefined) this.visit(node[key], path, i);
      }
      return;
    }
    const keys = path.keys;
    for (let i = 0; i < keys.length; i++) {
      const value = node[keys[i]!];
      if (value !== undefined) this.visit(value, path, i);
    }
  }

  private visit(value: unknown, path: PathNode, i: number): void {
    const slot = path.slots[i]!;
    if (slot >= 0) this.store(slot, leafValues(value));
    const child = path.children[i]!;
    if (child === null || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      // Any element may hold the rest of the path: the fields' own readers know how.
      for (const below of child.under) this.store(below, this.table.accessors[below]!(this.event));
    } else this.walk(value as Record<string, unknown>, child);
  }

  /** Caches what a field's reader found (undefined: absent) as the field's values for this event. */
  private store(slot: number, found: unknown): unknown[] {
    let values: unknown[];
    if (found === undefined) values = NONE;
    else if (Array.isArray(found)) values = found;
    else {
      values = this.single[slot] ??= [undefined];
      values[0] = found;
    }
    this.valueCache[slot] = values;
    this.valueStamp[slot] = this.epoch;
    return values;
  }

  strings(slot: number): string[] {
    if (slot >= this.stringStamp.length) this.grow(slot);
    if (this.stringStamp[slot] === this.epoch) return this.stringCache[slot]!;
    const values = this.values(slot);
    let strings: string[];
    if (values.length === 0) strings = NONE as string[];
    else if (values.length === 1 && typeof values[0] === 'string') strings = values as string[];
    else {
      strings = [];
      for (const value of values) {
        const s = stringOf(value);
        if (s !== undefined) strings.push(s);
      }
    }
    this.stringCache[slot] = strings;
    this.stringStamp[slot] = this.epoch;
    return strings;
  }

  lowerStrings(slot: number): string[] {
    if (slot >= this.lowerStamp.length) this.grow(slot);
    if (this.lowerStamp[slot] === this.epoch) return this.lowerCache[slot]!;
    const strings = this.strings(slot);
    let lower: string[];
    if (strings.length === 0) lower = NONE as string[];
    else if (strings.length === 1) {
      lower = this.lowerSingle[slot] ??= [''];
      lower[0] = strings[0]!.toLowerCase();
    } else lower = strings.map((s) => s.toLowerCase());
    this.lowerCache[slot] = lower;
    this.lowerStamp[slot] = this.epoch;
    return lower;
  }
}
