/**
 * The matcher's prefilter: which rules could possibly match an event, found without evaluating them, so
 * that the cost of matching grows far slower than the number of rules.
 *
 * Every rule has a route and possibly literals (necessary.ts):
 * - Rules are indexed by the (field, value) pairs of their route; the rules under one pair form a
 *   **bucket**. An event's values pick its buckets with one map lookup per indexed field (memoised by the
 *   value as written: routing values repeat). Rules with no route form one bucket every event picks.
 * - A rule with literals is a candidate only if one of them occurs in the event. The fields the rules of
 *   the picked buckets look in are each scanned once by an Aho–Corasick automaton over those fields'
 *   literals; then the literals found (few) lead to their rules, which are kept if one of their buckets
 *   was picked. So a bucket of 400 process-creation rules costs one scan of the command line, not 400
 *   checks.
 */
import type { SearchExpr } from '../model.js';
import { AhoCorasick, FoundWords } from './aho-corasick.js';
import { type EventView, FieldGroup, type FieldTable } from './event-view.js';
import { collectKeys, necessaryLiterals, RoutePlanner, valueKey } from './necessary.js';

interface RuleEntry {
  /** Literal ids one of which must be present, or null when the rule has no literal constraint. */
  literals: Int32Array | null;
  /** The field slots those literals must be found in. */
  literalSlots: Int32Array;
}

interface Bucket {
  /** Rules without literals: candidates whenever the bucket is picked (ascending). */
  always: Int32Array;
  /** The fields its rules with literals look in. */
  scanSlots: Int32Array;
}

const NO_BUCKET = -1;
const MEMO_LIMIT = 4096;
const EMPTY = new Int32Array(0);

/**
 * Keyword fields whose text is usually the end of another's: a syslog event's `message` is its
 * `event.original` after the envelope's header (ingest/normalise.ts). Every literal in the tail is in the
 * whole, so one scan of the whole with both fields' literals finds all that a scan of each would, and a
 * literal found only in the header adds a candidate, which evaluation then rejects.
 */
const TAIL_FIELDS: readonly (readonly [tail: string, whole: string])[] = [['message', 'event.original']];

/** Two field slots of TAIL_FIELDS and the automaton over both fields' literals. */
interface TailPair {
  tail: number;
  whole: number;
  automaton: AhoCorasick;
  /** The event (epoch) it was last tried on: tried once per event, by whichever slot comes first. */
  tried: number;
}

/** Insertion sort of list[0 .. count): candidate lists are short and mostly ordered (Array#sort allocates). */
function sortSmall(list: Int32Array, count: number): void {
  for (let i = 1; i < count; i++) {
    const value = list[i]!;
    let j = i - 1;
    while (j >= 0 && list[j]! > value) {
      list[j + 1] = list[j]!;
      j--;
    }
    list[j + 1] = value;
  }
}

/** Picks candidate rules for an event; `candidates` returns rule indices in ascending order. */
export class Prefilter {
  private readonly entries: RuleEntry[] = [];
  /** Each rule's condition, routed when the index is (re)built. */
  private readonly exprs: SearchExpr[] = [];
  private readonly literalIds = new Map<string, number>();

  // Built by `build` when rules were added since.
  private built = -1;
  private buckets: Bucket[] = [];
  /** The bucket every event picks (rules with no route). */
  private unroutedBucket = 0;
  /** Per rule: the buckets it is in. */
  private ruleBuckets: Int32Array[] = [];
  /** Per literal id: the rules that need it. */
  private literalRules: Int32Array[] = [];
  /** The routing index: field slots, and per slot, key → bucket. */
  private indexSlots: number[] = [];
  /** The index fields, read in one walk of each event. */
  private routing: FieldGroup | undefined;
  private indexKeys: Map<string, number>[] = [];
  /** Per index field: value as written → bucket (NO_BUCKET for none). */
  private indexMemo: Map<string, number>[] = [];
  /** Per field slot: the automaton over the literals rules look for in it (shared by slots with one set). */
  private automata: (AhoCorasick | undefined)[] = [];
  /** Per field slot of TAIL_FIELDS whose fields both have automata: the pair, scanned as one. */
  private tailPairs: (TailPair | undefined)[] = [];

  // Per event state, invalidated by epoch stamps.
  private epoch = 0;
  private bucketSeen = new Uint32Array(0);
  private ruleSeen = new Uint32Array(0);
  private literalSeen = new Uint32Array(0);
  private slotScanned = new Uint32Array(0);
  // Per event lists, filled up to their counts and never truncated: `array.length = 0` releases an array's
  // backing store, and the pushes that follow allocate it again (~600 bytes of garbage an event).
  private picked = new Int32Array(0);
  /** The (automaton, text) pairs scanned for this event. */
  private readonly scannedWith: AhoCorasick[] = [];
  private readonly scannedText: string[] = [];
  private scannedCount = 0;
  private found = new FoundWords(0);
  /** The last `candidates` call's rules: as many entries as it returned, ascending. */
  private chosen = new Int32Array(0);

  constructor(
    private readonly fields: FieldTable,
    private readonly keywordFields: string[] | null,
  ) {}

  /** Registers the next rule (its index is the order of `add` calls). */
  add(expr: SearchExpr): void {
    this.exprs.push(expr);
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

  /** Routes every rule (RoutePlanner), fills the buckets and builds the automata. */
  private build(): void {
    const distinct = new Map<string, Set<string>>();
    for (const expr of this.exprs) collectKeys(expr, distinct);
    const planner = new RoutePlanner(distinct);
    const bucketRules: number[][] = [[]];
    this.unroutedBucket = 0;
    const index = new Map<number, Map<string, number>>();
    const ruleBuckets: number[][] = [];
    this.exprs.forEach((expr, rule) => {
      const route = planner.best(planner.routes(expr));
      if (!route) {
        bucketRules[this.unroutedBucket]!.push(rule);
        ruleBuckets.push([this.unroutedBucket]);
        return;
      }
      const mine = new Set<number>();
      for (const [field, keys] of route) {
        const slot = this.fields.slot(field);
        let byKey = index.get(slot);
        if (!byKey) {
          byKey = new Map();
          index.set(slot, byKey);
        }
        for (const key of keys) {
          let bucket = byKey.get(key);
          if (bucket === undefined) {
            bucket = bucketRules.length;
            bucketRules.push([]);
            byKey.set(key, bucket);
          }
          if (!mine.has(bucket)) bucketRules[bucket]!.push(rule);
          mine.add(bucket);
        }
      }
      ruleBuckets.push([...mine]);
    });
    this.buckets = bucketRules.map((rules) => {
      const slots = new Set<number>();
      const always: number[] = [];
      for (const rule of rules) {
        const entry = this.entries[rule]!;
        if (entry.literals === null) always.push(rule);
        else for (const slot of entry.literalSlots) slots.add(slot);
      }
      return { always: Int32Array.from(always), scanSlots: Int32Array.from(slots) };
    });
    this.ruleBuckets = ruleBuckets.map((b) => Int32Array.from(b));
    const literalRules: number[][] = Array.from({ length: this.literalIds.size }, () => []);
    this.entries.forEach((entry, rule) => {
      if (entry.literals) for (const id of entry.literals) literalRules[id]!.push(rule);
    });
    this.literalRules = literalRules.map((rules) => (rules.length === 0 ? EMPTY : Int32Array.from(rules)));
    this.indexSlots = [...index.keys()];
    this.routing = new FieldGroup(this.fields, this.indexSlots);
    this.indexKeys = [...index.values()];
    this.indexMemo = this.indexKeys.map(() => new Map());
    this.automata = this.buildAutomata();

    this.bucketSeen = new Uint32Array(this.buckets.length);
    this.ruleSeen = new Uint32Array(this.entries.length);
    this.literalSeen = new Uint32Array(this.literalIds.size);
    this.slotScanned = new Uint32Array(this.fields.size);
    // Each bucket, literal and rule at most once per event (the epoch stamps): these sizes always suffice.
    this.picked = new Int32Array(this.buckets.length);
    this.found = new FoundWords(this.literalIds.size);
    this.chosen = new Int32Array(this.entries.length);
    this.epoch = 0;
    this.built = this.exprs.length;
  }

  /** One automaton per field slot, over the literals of the rules that look in that field. */
  private buildAutomata(): (AhoCorasick | undefined)[] {
    const bySlot = new Map<number, Set<number>>();
    for (const entry of this.entries) {
      if (entry.literals === null) continue;
      for (const slot of entry.literalSlots) {
        let set = bySlot.get(slot);
        if (!set) {
          set = new Set();
          bySlot.set(slot, set);
        }
        for (const id of entry.literals) set.add(id);
      }
    }
    const words = [...this.literalIds.keys()];
    const shared = new Map<string, AhoCorasick>();
    const automatonOf = (set: Set<number>): AhoCorasick => {
      const ids = [...set].sort((a, b) => a - b);
      const key = ids.join(',');
      let automaton = shared.get(key);
      if (!automaton) {
        automaton = new AhoCorasick(
          ids.map((id) => words[id]!),
          ids,
        );
        shared.set(key, automaton);
      }
      return automaton;
    };
    const automata: (AhoCorasick | undefined)[] = [];
    for (const [slot, set] of bySlot) automata[slot] = automatonOf(set);
    // Both fields' literals in one automaton: the same one as a field's when its set holds the other's.
    this.tailPairs = [];
    const slotNamed = new Map([...bySlot.keys()].map((slot) => [this.fields.names[slot]!, slot]));
    for (const [tailName, wholeName] of TAIL_FIELDS) {
      const tail = slotNamed.get(tailName);
      const whole = slotNamed.get(wholeName);
      if (tail === undefined || whole === undefined) continue;
      const both = new Set([...bySlot.get(tail)!, ...bySlot.get(whole)!]);
      const pair: TailPair = { tail, whole, automaton: automatonOf(both), tried: 0 };
      this.tailPairs[tail] = pair;
      this.tailPairs[whole] = pair;
    }
    return automata;
  }

  /**
   * Rules worth evaluating on this event, in the order they were added: returns their number n, and the
   * rules are `chosenRules()[0 .. n)`, valid until the next call.
   */
  candidates(view: EventView): number {
    if (this.built !== this.exprs.length) this.build();
    const epoch = this.nextEpoch();
    const picked = this.picked;
    let pickedCount = 0;
    view.readGroup(this.routing!);
    for (let i = 0; i < this.indexSlots.length; i++) {
      const values = view.values(this.indexSlots[i]!);
      for (let v = 0; v < values.length; v++) {
        const bucket = this.bucketOf(i, values[v]);
        if (bucket !== NO_BUCKET && this.bucketSeen[bucket] !== epoch) {
          this.bucketSeen[bucket] = epoch;
          picked[pickedCount++] = bucket;
        }
      }
    }
    this.bucketSeen[this.unroutedBucket] = epoch;
    picked[pickedCount++] = this.unroutedBucket;

    const out = this.chosen;
    let count = 0;
    this.found.count = 0;
    this.scannedCount = 0;
    const ruleSeen = this.ruleSeen;
    for (let p = 0; p < pickedCount; p++) {
      const bucket = this.buckets[picked[p]!]!;
      const always = bucket.always;
      for (let j = 0; j < always.length; j++) {
        const rule = always[j]!;
        if (ruleSeen[rule] !== epoch) {
          ruleSeen[rule] = epoch;
          out[count++] = rule;
        }
      }
      if (bucket.scanSlots.length > 0) this.scan(view, bucket.scanSlots, epoch);
    }
    // Rules with literals: those of the literals found whose bucket was picked.
    const found = this.found.ids;
    const foundCount = this.found.count;
    for (let f = 0; f < foundCount; f++) {
      const rules = this.literalRules[found[f]!]!;
      for (let j = 0; j < rules.length; j++) {
        const rule = rules[j]!;
        if (ruleSeen[rule] === epoch) continue;
        const buckets = this.ruleBuckets[rule]!;
        for (let b = 0; b < buckets.length; b++) {
          if (this.bucketSeen[buckets[b]!] === epoch) {
            ruleSeen[rule] = epoch;
            out[count++] = rule;
            break;
          }
        }
      }
    }
    sortSmall(out, count);
    return count;
  }

  /** The list `candidates` fills (read its first n entries). */
  chosenRules(): Int32Array {
    return this.chosen;
  }

  /**
   * The bucket of a value of the i-th index field. Values of routing fields (channels, event codes, modules,
   * categories) repeat from event to event, so the answer is memoised by the value as written: no
   * lower-casing or number parsing for a value seen before. The memo is bounded (a high-cardinality field
   * stops being memoised).
   */
  private bucketOf(i: number, value: unknown): number {
    if (typeof value === 'string') {
      const memo = this.indexMemo[i]!;
      let bucket = memo.get(value);
      if (bucket === undefined) {
        bucket = this.indexKeys[i]!.get(valueKey(value)!) ?? NO_BUCKET;
        if (memo.size < MEMO_LIMIT) memo.set(value, bucket);
      }
      return bucket;
    }
    const key = valueKey(value);
    return key === undefined ? NO_BUCKET : (this.indexKeys[i]!.get(key) ?? NO_BUCKET);
  }

  /** Scans each of the fields not scanned yet for this event, collecting the literals found. */
  private scan(view: EventView, slots: Int32Array, epoch: number): void {
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      if (this.slotScanned[slot] === epoch) continue;
      const pair = this.tailPairs[slot];
      if (pair !== undefined && pair.tried !== epoch) {
        this.scanPair(view, pair, epoch);
        if (this.slotScanned[slot] === epoch) continue;
      }
      this.slotScanned[slot] = epoch;
      const automaton = this.automata[slot];
      if (automaton === undefined) continue;
      const texts = view.strings(slot);
      for (let t = 0; t < texts.length; t++) {
        if (this.scannedBefore(automaton, texts[t]!)) continue;
        if (!automaton.scan(texts[t]!, this.literalSeen, epoch, this.found)) {
          automaton.scanLowerCase(view.lowerStrings(slot)[t]!, this.literalSeen, epoch, this.found);
        }
      }
    }
  }

  /**
   * Scans a TAIL_FIELDS pair's whole with both fields' literals, when each field holds one string and the
   * tail's ends the whole's, and marks the fields that scan covers: the whole always, the tail when the
   * plain scan sufficed. When the whole needs the lower-cased scan (any character the automaton's case folding
   * does not cover as is: non-ASCII with a lower case of its own), the tail is left to be scanned on its own,
   * since a context-dependent lower case (final sigma) need not make the tail's the end of the whole's. This
   * pair's scans skip `scannedBefore`: another field holding the same text may scan it again (time, not results).
   */
  private scanPair(view: EventView, pair: TailPair, epoch: number): void {
    pair.tried = epoch;
    const tails = view.strings(pair.tail);
    const wholes = view.strings(pair.whole);
    if (tails.length !== 1 || wholes.length !== 1 || !wholes[0]!.endsWith(tails[0]!)) return;
    this.slotScanned[pair.whole] = epoch;
    if (pair.automaton.scan(wholes[0]!, this.literalSeen, epoch, this.found)) {
      this.slotScanned[pair.tail] = epoch;
      return;
    }
    pair.automaton.scanLowerCase(view.lowerStrings(pair.whole)[0]!, this.literalSeen, epoch, this.found);
  }

  /**
   * Whether this automaton already scanned this text for this event (and if not, notes it): events often
   * carry one text under two fields whose rules look for the same literals (`process.command_line` and
   * `winlog.event_data.CommandLine`), and one scan finds the same words as two.
   */
  private scannedBefore(automaton: AhoCorasick, text: string): boolean {
    const withs = this.scannedWith;
    const count = this.scannedCount;
    for (let j = 0; j < count; j++) {
      if (withs[j] === automaton && this.scannedText[j] === text) return true;
    }
    withs[count] = automaton;
    this.scannedText[count] = text;
    this.scannedCount = count + 1;
    return false;
  }

  private nextEpoch(): number {
    this.epoch++;
    if (this.epoch === 0xffffffff) {
      this.epoch = 1;
      this.bucketSeen.fill(0);
      this.ruleSeen.fill(0);
      this.literalSeen.fill(0);
      this.slotScanned.fill(0);
      for (const pair of this.tailPairs) if (pair) pair.tried = 0;
    }
    return this.epoch;
  }
}
