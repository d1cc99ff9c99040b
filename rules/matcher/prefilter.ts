/**
 * The matcher's prefilter: which rules could possibly match an event, found without evaluating them, so
 * that the cost of matching grows far slower than the number of rules.
 *
 * From each rule's compiled condition two necessary conditions are derived (sound: they may let through a
 * rule that then does not match, never hold back one that would):
 * - a field/value key: "the event's `event.code` is 1 or 4688" — rules are indexed by it (logsource routing
 *   falls out of this, since pipelines select events by channel and event code);
 * - a set of literals: "one of these strings occurs in one of these fields" — taken from the longest literal
 *   piece of each string pattern; all rules' literals share one Aho–Corasick automaton, so one scan of the
 *   event's text answers for every `contains`-heavy rule at once.
 */
import type { SearchExpr } from '../model.js';
import { AhoCorasick } from './aho-corasick.js';
import type { EventView, FieldTable } from './event-view.js';

/** The key a value has in the field/value index: numbers canonical, text lower-cased. */
const NUMERIC = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/;
export function valueKey(value: unknown): string | undefined {
  switch (typeof value) {
    case 'number':
      return String(value);
    case 'boolean':
      return String(value);
    case 'string':
      return NUMERIC.test(value) ? String(Number(value)) : value.toLowerCase();
    default:
      return undefined;
  }
}

type EqualityMap = Map<string, Set<string>>;

/** field → keys such that the expression can hold only if the field has a value with one of the keys. */
function necessaryEquality(expr: SearchExpr): EqualityMap {
  switch (expr.type) {
    case 'test': {
      if (expr.field === null) return new Map();
      const v = expr.value;
      let key: string | undefined;
      if (v.kind === 'string' && !v.expand && v.parts.every((p) => typeof p === 'string')) {
        key = valueKey((v.parts as string[]).join(''));
      } else if (v.kind === 'number' || v.kind === 'bool') {
        key = String(v.value);
      }
      return key === undefined ? new Map() : new Map([[expr.field, new Set([key])]]);
    }
    case 'and': {
      const merged: EqualityMap = new Map();
      for (const item of expr.items) {
        for (const [field, keys] of necessaryEquality(item)) {
          const existing = merged.get(field);
          if (!existing || keys.size < existing.size) merged.set(field, keys);
        }
      }
      return merged;
    }
    case 'or': {
      const maps = expr.items.map(necessaryEquality);
      const first = maps[0];
      if (!first) return new Map();
      const result: EqualityMap = new Map();
      for (const field of first.keys()) {
        if (maps.every((m) => m.has(field))) {
          result.set(field, new Set(maps.flatMap((m) => [...m.get(field)!])));
        }
      }
      return result;
    }
    default:
      return new Map();
  }
}

interface LiteralSet {
  /** Taken from whole-value (equality) tests: the field/value index already covers those better. */
  exact: boolean;
  literals: Set<string>;
  /** Fields the literals must occur in; null = keyword search (the keyword fields). */
  fields: Set<string | null>;
}

const MIN_LITERAL = 3;
/**
 * Literals are cut to their last characters: a piece of a necessary literal is necessary too, and short
 * words keep the automaton small. The end is kept because it is the distinctive part of paths and
 * commands (`...\\powershell.exe`, `... -encodedcommand`).
 */
const MAX_LITERAL = 12;
const MAX_LITERALS_PER_RULE = 5_000;

/** Literals one of which must occur (lower-cased) in one of the fields for the expression to hold. */
function necessaryLiterals(expr: SearchExpr): LiteralSet | undefined {
  switch (expr.type) {
    case 'test': {
      const v = expr.value;
      // Case-sensitive tests are left out: lower-casing is not quite context-free (Greek final sigma).
      if (v.kind !== 'string' || v.expand || v.cased) return undefined;
      let longest = '';
      for (const part of v.parts)
        if (typeof part === 'string' && part.length > longest.length) longest = part;
      if (longest.length < MIN_LITERAL) return undefined;
      const exact = v.parts.every((p) => typeof p === 'string');
      const literal = longest.toLowerCase().slice(-MAX_LITERAL);
      return { exact, literals: new Set([literal]), fields: new Set([expr.field]) };
    }
    case 'and': {
      let best: LiteralSet | undefined;
      for (const item of expr.items) {
        const candidate = necessaryLiterals(item);
        if (candidate && (!best || score(candidate) > score(best))) best = candidate;
      }
      return best;
    }
    case 'or': {
      const literals = new Set<string>();
      const fields = new Set<string | null>();
      let exact = true;
      for (const item of expr.items) {
        const set = necessaryLiterals(item);
        if (!set) return undefined;
        for (const l of set.literals) literals.add(l);
        for (const f of set.fields) fields.add(f);
        exact &&= set.exact;
      }
      return literals.size > MAX_LITERALS_PER_RULE ? undefined : { exact, literals, fields };
    }
    default:
      return undefined;
  }
}

/** Substring literals before equality ones (the index handles those); then longer and fewer filter better. */
function score(set: LiteralSet): number {
  let shortest = Number.POSITIVE_INFINITY;
  for (const l of set.literals) shortest = Math.min(shortest, l.length);
  return (set.exact ? 0 : 1e9) + Math.min(shortest, 100) * 10_000 - set.literals.size;
}

interface RuleEntry {
  /** Literal ids one of which must be present, or null when the rule has no literal constraint. */
  literals: Int32Array | null;
  /** The field slots those literals must be found in. */
  literalSlots: Int32Array;
}

/** Picks candidate rules for an event; `candidates` returns rule indices in ascending order. */
export class Prefilter {
  private readonly entries: RuleEntry[] = [];
  /** field slot → key → rule indices. */
  private readonly index = new Map<number, Map<string, number[]>>();
  private readonly unrouted: number[] = [];
  private readonly literalIds = new Map<string, number>();
  /** Per field slot: the event it was last scanned for. */
  private slotScanned = new Uint32Array(0);
  private automaton: AhoCorasick | undefined;
  private literalSeen = new Uint32Array(0);
  private ruleSeen = new Uint32Array(0);
  private epoch = 0;

  constructor(
    private readonly fields: FieldTable,
    private readonly keywordFields: string[] | null,
  ) {}

  /** Each rule's equality constraints, routed when the index is (re)built. */
  private readonly equalities: EqualityMap[] = [];
  private indexed = 0;

  /** Registers the next rule (its index is the order of `add` calls). */
  add(expr: SearchExpr): void {
    this.equalities.push(necessaryEquality(expr));
    const literals = necessaryLiterals(expr);
    let ids: Int32Array | null = null;
    const slots = new Set<number>();
    // A keyword literal is searched in the keyword fields; with none configured (every value), no constraint.
    // Literals from whole-value tests are left to the field/value index (typically the logsource's channel,
    // present in every event of that source: scanning for it would filter nothing).
    if (literals && !literals.exact && !(literals.fields.has(null) && this.keywordFields === null)) {
      ids = Int32Array.from([...literals.literals].map((l) => this.literalId(l)));
      for (const field of literals.fields) {
        for (const name of field === null ? (this.keywordFields ?? []) : [field])
          slots.add(this.fields.slot(name));
      }
      this.automaton = undefined;
    }
    this.entries.push({ literals: ids, literalSlots: Int32Array.from(slots) });
  }

  private literalId(literal: string): number {
    let id = this.literalIds.get(literal);
    if (id === undefined) {
      id = this.literalIds.size;
      this.literalIds.set(literal, id);
    }
    return id;
  }

  /**
   * Routes every rule by one of its equality constraints: the one with the fewest keys, and among those the
   * field with the most distinct keys over all rules (`event.code` splits Windows rules finely,
   * `winlog.channel` hardly). Rebuilt when rules were added since.
   */
  private buildIndex(): void {
    const distinct = new Map<string, Set<string>>();
    for (const map of this.equalities) {
      for (const [field, keys] of map) {
        const set = distinct.get(field) ?? new Set();
        for (const key of keys) set.add(key);
        distinct.set(field, set);
      }
    }
    this.index.clear();
    this.unrouted.length = 0;
    this.equalities.forEach((map, ruleIndex) => {
      let route: [string, Set<string>] | undefined;
      for (const entry of map) {
        if (
          !route ||
          entry[1].size < route[1].size ||
          (entry[1].size === route[1].size && distinct.get(entry[0])!.size > distinct.get(route[0])!.size)
        ) {
          route = entry;
        }
      }
      if (!route) {
        this.unrouted.push(ruleIndex);
        return;
      }
      const slot = this.fields.slot(route[0]);
      let byKey = this.index.get(slot);
      if (!byKey) {
        byKey = new Map();
        this.index.set(slot, byKey);
      }
      for (const key of route[1]) {
        const list = byKey.get(key) ?? [];
        list.push(ruleIndex);
        byKey.set(key, list);
      }
    });
    this.indexed = this.equalities.length;
    this.ruleSeen = new Uint32Array(this.entries.length);
  }

  /** Rules worth evaluating on this event, in the order they were added. */
  candidates(view: EventView): number[] {
    if (this.indexed !== this.equalities.length) this.buildIndex();
    const epoch = this.nextEpoch();
    const picked: number[] = [];
    const seen = this.ruleSeen;
    for (const [slot, byKey] of this.index) {
      for (const value of view.values(slot)) {
        const key = valueKey(value);
        if (key === undefined) continue;
        const rules = byKey.get(key);
        if (!rules) continue;
        for (const r of rules) {
          if (seen[r] !== epoch) {
            seen[r] = epoch;
            picked.push(r);
          }
        }
      }
    }
    for (const r of this.unrouted) picked.push(r);
    if (picked.length === 0) return picked;
    // Literal constraints: scan each field a candidate needs once, with every rule's literals at a time.
    const out: number[] = [];
    for (const r of picked) {
      const entry = this.entries[r]!;
      const literals = entry.literals;
      if (literals !== null) {
        this.scanSlots(view, entry.literalSlots, epoch);
        let present = false;
        for (let i = 0; i < literals.length; i++) {
          if (this.literalSeen[literals[i]!] === epoch) {
            present = true;
            break;
          }
        }
        if (!present) continue;
      }
      out.push(r);
    }
    return out.sort((a, b) => a - b);
  }

  private scanSlots(view: EventView, slots: Int32Array, epoch: number): void {
    if (!this.automaton) {
      this.automaton = new AhoCorasick([...this.literalIds.keys()]);
      this.literalSeen = new Uint32Array(this.literalIds.size);
    }
    if (this.slotScanned.length < this.fields.size) {
      const wider = new Uint32Array(this.fields.size * 2);
      wider.set(this.slotScanned);
      this.slotScanned = wider;
    }
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      if (this.slotScanned[slot] === epoch) continue;
      this.slotScanned[slot] = epoch;
      for (const text of view.lowerStrings(slot)) this.automaton.scan(text, this.mark);
    }
  }

  private readonly mark = (id: number): void => {
    this.literalSeen[id] = this.epoch;
  };

  private nextEpoch(): number {
    this.epoch++;
    if (this.epoch === 0xffffffff) {
      this.epoch = 1;
      this.ruleSeen.fill(0);
      this.literalSeen.fill(0);
      this.slotScanned.fill(0);
    }
    return this.epoch;
  }
}
