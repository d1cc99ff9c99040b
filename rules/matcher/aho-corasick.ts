/**
 * A multi-pattern substring automaton (Aho–Corasick) over UTF-16 code units: one pass over a text finds
 * every dictionary word it contains, whatever the number of words. The prefilter uses it so that a
 * thousand `contains` rules cost one scan of the event's text, not a thousand `indexOf`s.
 *
 * Layout, for speed where scans spend their time and for size everywhere else. Code units map to
 * character classes: every code unit that occurs in some word has a class, all others share class 0
 * (which always leads back to the root). Words are lower-case; the scan folds ASCII upper case through the
 * class table, so texts need no lower-cased copy unless they hold a non-ASCII character that lower-casing
 * would change.
 *
 * - States up to DENSE_DEPTH characters deep have dense rows (one entry per class, failure links folded
 *   in): a step from one is two array reads. Over the issue 6 load (1,018 rules, 198 automata) and the
 *   rules-matcher stream, 99.5% of scan steps land at depth ≤ 3, and those states are 9% of all states.
 * - Deeper states are the tails of long words (98.5% of them have one child): each keeps its trie edges
 *   and a failure link, as in the textbook automaton, and a step from one follows failure links until an
 *   edge matches or a dense state is reached (amortised one step per character).
 * A fully dense table cost states × classes × 4 bytes: 33 MB at that load, one automaton 9.3 MB.
 *
 * States are numbered so that the hot case is one comparison: dense states that report no word come first
 * (as offsets into the dense table, so a step needs no multiplication), then the dense states that report
 * words, then the deep ones (numbered from the dense table's end). A scan reports a state's words when it
 * leaves the state (or at the end of the text), so the loop checks only "is this a silent dense state".
 */

/** Depth up to which states get dense rows (see above: measured, 3 of 2–4). */
const DENSE_DEPTH = 3;

/** Code units ≥ 128 whose lower-case form differs (and all surrogates): texts holding one are lower-cased first. */
let foldsOutsideAscii: Uint8Array | undefined;

function nonAsciiFolds(): Uint8Array {
  if (foldsOutsideAscii) return foldsOutsideAscii;
  const table = new Uint8Array(65536);
  for (let code = 128; code < 65536; code++) {
    if (code >= 0xd800 && code <= 0xdfff) table[code] = 1;
    else {
      const char = String.fromCharCode(code);
      if (char.toLowerCase() !== char) table[code] = 1;
    }
  }
  foldsOutsideAscii = table;
  return table;
}

/**
 * Where scans put the ids of the words they find: ids[0 .. count). A scan adds an id once per epoch (the
 * caller's `seen` stamps), so a list the size of the dictionary never overflows; the caller resets `count`
 * between events instead of emptying an array (which would release its storage and allocate it again).
 */
export class FoundWords {
  readonly ids: Int32Array;
  count = 0;

  constructor(capacity: number) {
    this.ids = new Int32Array(capacity);
  }

  /** The ids found, in the order found. */
  list(): number[] {
    return Array.from(this.ids.subarray(0, this.count));
  }
}

export class AhoCorasick {
  /**
   * Class of each ASCII code unit, upper case folded to lower case (lower-cased texts hold no ASCII upper
   * case, so the one table serves both scans); 0 = in no word.
   */
  private readonly asciiClass: Uint16Array;
  /**
   * Classes of the other code units that occur in words. A map rather than a 65,536-entry table: automata
   * are many (one per field in the prefilter, one per long `contains` list in rules) and non-ASCII text is
   * rare in what they scan.
   */
  private readonly otherClass: Map<number, number>;
  private readonly folds: Uint8Array;
  private readonly classes: number;
  /** Dense state × classes + class → next state (a dense state as its offset here, a deep one as denseEnd + index). */
  private readonly dense: Int32Array;
  /** Offset of the first dense state that reports words: below it, silent dense states. */
  private readonly silentEnd: number;
  /** Length of the dense table: state numbers from here on are deep states (denseEnd + index). */
  private readonly denseEnd: number;
  /** State number of the first deep state that reports words. */
  private readonly deepReportFrom: number;
  /** Per deep state: its trie edges are edgeClass/edgeTarget[edgeStart[d] .. edgeStart[d+1]). */
  private readonly edgeStart: Int32Array;
  private readonly edgeClass: Int32Array;
  private readonly edgeTarget: Int32Array;
  /** Per deep state: its failure link (a state number). */
  private readonly fail: Int32Array;
  /**
   * For reporting state r (dense reporting ones first, then deep ones): its word ids are
   * wordIds[wordStart[r] .. wordStart[r+1]).
   */
  private readonly wordStart: Int32Array;
  private readonly wordIds: Int32Array;
  /** Reporting dense states (the deep ones' ranks follow theirs). */
  private readonly denseReporting: number;
  readonly size: number;
  readonly states: number;

  /**
   * @param words lower-case words
   * @param ids what to mark for each word (default: its index), so that automata over different subsets
   *   of one dictionary mark the same `seen` array
   */
  constructor(words: readonly string[], ids?: ArrayLike<number>) {
    this.size = words.length;
    this.folds = nonAsciiFolds();
    const asciiClass = new Uint16Array(128);
    const otherClass = new Map<number, number>();
    let classes = 1;
    for (const word of words) {
      for (let i = 0; i < word.length; i++) {
        const code = word.charCodeAt(i);
        if (code < 128) {
          if (asciiClass[code] === 0) asciiClass[code] = classes++;
        } else if (!otherClass.has(code)) otherClass.set(code, classes++);
      }
    }
    // Words are lower case: their classes are those of the letters' lower case.
    for (let code = 65; code <= 90; code++) asciiClass[code] = asciiClass[code + 32]!;
    this.asciiClass = asciiClass;
    this.otherClass = otherClass;
    this.classes = classes;
    const classOf = (code: number) => (code < 128 ? asciiClass[code]! : (otherClass.get(code) ?? 0));

    // The trie, as lists of children: firstChild[s], then nextSibling[child]; label[child] is its class.
    let capacity = 1;
    for (const word of words) capacity += word.length;
    const firstChild = new Int32Array(capacity).fill(-1);
    const nextSibling = new Int32Array(capacity).fill(-1);
    const label = new Int32Array(capacity);
    const depth = new Int32Array(capacity);
    const child = (state: number, c: number) => {
      for (let k = firstChild[state]!; k >= 0; k = nextSibling[k]!) if (label[k] === c) return k;
      return -1;
    };
    let states = 1;
    const endsAt: number[][] = [[]];
    for (let id = 0; id < words.length; id++) {
      const word = words[id]!;
      if (word.length === 0) continue;
      let state = 0;
      for (let i = 0; i < word.length; i++) {
        const c = classOf(word.charCodeAt(i));
        let next = child(state, c);
        if (next < 0) {
          next = states++;
          label[next] = c;
          depth[next] = depth[state]! + 1;
          nextSibling[next] = firstChild[state]!;
          firstChild[state] = next;
          endsAt.push([]);
        }
        state = next;
      }
      // A repeated word keeps its first id.
      if (endsAt[state]!.length === 0) endsAt[state]!.push(ids ? ids[id]! : id);
    }

    // Breadth-first: failure links (the longest proper suffix that is a trie state), inheriting its words.
    const failOf = new Int32Array(states);
    const goTo = (from: number, c: number) => {
      for (let state = from; ; state = failOf[state]!) {
        const next = child(state, c);
        if (next >= 0) return next;
        if (state === 0) return 0;
      }
    };
    const bfs = new Int32Array(states);
    let tail = 1;
    for (let head = 0; head < tail; head++) {
      const state = bfs[head]!;
      if (state !== 0) for (const id of endsAt[failOf[state]!]!) endsAt[state]!.push(id);
      for (let k = firstChild[state]!; k >= 0; k = nextSibling[k]!) {
        failOf[k] = state === 0 ? 0 : goTo(failOf[state]!, label[k]!);
        bfs[tail++] = k;
      }
    }

    // Number the states (breadth-first within each group, the root first): silent dense, reporting dense,
    // silent deep, reporting deep.
    const order: number[] = [];
    const isDense = (s: number) => depth[s]! <= DENSE_DEPTH;
    const reports = (s: number) => endsAt[s]!.length > 0;
    for (const s of bfs) if (isDense(s) && !reports(s)) order.push(s);
    const silentDense = order.length;
    for (const s of bfs) if (isDense(s) && reports(s)) order.push(s);
    const denseCount = order.length;
    for (const s of bfs) if (!isDense(s) && !reports(s)) order.push(s);
    const silentCount = order.length;
    for (const s of bfs) if (!isDense(s) && reports(s)) order.push(s);
    const denseEnd = denseCount * classes;
    const number = new Int32Array(states);
    order.forEach((state, i) => {
      number[state] = i < denseCount ? i * classes : denseEnd + (i - denseCount);
    });

    // Dense rows: every class's next state, failure links folded in.
    this.dense = new Int32Array(denseEnd);
    for (let i = 0; i < denseCount; i++) {
      const state = order[i]!;
      for (let c = 0; c < classes; c++) this.dense[i * classes + c] = number[goTo(state, c)]!;
    }
    // Deep states: trie edges and failure links.
    const deepCount = states - denseCount;
    this.edgeStart = new Int32Array(deepCount + 1);
    this.fail = new Int32Array(deepCount);
    const edgeClass: number[] = [];
    const edgeTarget: number[] = [];
    for (let d = 0; d < deepCount; d++) {
      const state = order[denseCount + d]!;
      this.edgeStart[d] = edgeClass.length;
      this.fail[d] = number[failOf[state]!]!;
      for (let k = firstChild[state]!; k >= 0; k = nextSibling[k]!) {
        edgeClass.push(label[k]!);
        edgeTarget.push(number[k]!);
      }
    }
    this.edgeStart[deepCount] = edgeClass.length;
    this.edgeClass = Int32Array.from(edgeClass);
    this.edgeTarget = Int32Array.from(edgeTarget);

    this.silentEnd = silentDense * classes;
    this.denseEnd = denseEnd;
    this.deepReportFrom = denseEnd + (silentCount - denseCount);
    this.denseReporting = denseCount - silentDense;
    const reporting = [...order.slice(silentDense, denseCount), ...order.slice(silentCount)];
    this.wordStart = new Int32Array(reporting.length + 1);
    const reported: number[] = [];
    reporting.forEach((state, r) => {
      this.wordStart[r] = reported.length;
      for (const id of endsAt[state]!) reported.push(id);
    });
    this.wordStart[reporting.length] = reported.length;
    this.wordIds = Int32Array.from(reported);
    this.states = states;
  }

  /**
   * Finds the words occurring in `text`, compared case-insensitively: each word id not yet marked
   * `seen[id] === epoch` is marked and appended to `found`. Returns false (having found only part) when the
   * text holds a non-ASCII character that lower-casing changes: then scan `text.toLowerCase()` with
   * `scanLowerCase` instead.
   */
  scan(text: string, seen: Uint32Array, epoch: number, found: FoundWords): boolean {
    const asciiClass = this.asciiClass;
    const folds = this.folds;
    const dense = this.dense;
    const silentEnd = this.silentEnd;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      let c: number;
      if (code < 128) c = asciiClass[code]!;
      else if (folds[code] === 1) return false;
      else c = this.otherClass.get(code) ?? 0;
      if (state < silentEnd) state = dense[state + c]!;
      else {
        this.report(state, seen, epoch, found);
        state = this.step(state, c);
      }
    }
    if (state >= silentEnd) this.report(state, seen, epoch, found);
    return true;
  }

  /** As `scan`, for a text already lower-cased. */
  scanLowerCase(text: string, seen: Uint32Array, epoch: number, found: FoundWords): void {
    const asciiClass = this.asciiClass;
    const dense = this.dense;
    const silentEnd = this.silentEnd;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      const c = code < 128 ? asciiClass[code]! : (this.otherClass.get(code) ?? 0);
      if (state < silentEnd) state = dense[state + c]!;
      else {
        this.report(state, seen, epoch, found);
        state = this.step(state, c);
      }
    }
    if (state >= silentEnd) this.report(state, seen, epoch, found);
  }

  /** Whether some word occurs in `text`, which is already lower-cased (stops at the first one). */
  occursInLowerCase(text: string): boolean {
    const asciiClass = this.asciiClass;
    const dense = this.dense;
    const silentEnd = this.silentEnd;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      const c = code < 128 ? asciiClass[code]! : (this.otherClass.get(code) ?? 0);
      if (state < silentEnd) state = dense[state + c]!;
      else {
        if (this.reports(state)) return true;
        state = this.step(state, c);
      }
    }
    return state >= silentEnd && this.reports(state);
  }

  /** The next state from a state other than a silent dense one. */
  private step(state: number, c: number): number {
    const denseEnd = this.denseEnd;
    if (c === 0) return 0;
    while (state >= denseEnd) {
      const d = state - denseEnd;
      const end = this.edgeStart[d + 1]!;
      for (let e = this.edgeStart[d]!; e < end; e++) if (this.edgeClass[e] === c) return this.edgeTarget[e]!;
      state = this.fail[d]!;
    }
    return this.dense[state + c]!;
  }

  /** Whether a state (not a silent dense one) reports words: dense ones past silentEnd all do. */
  private reports(state: number): boolean {
    return state < this.denseEnd || state >= this.deepReportFrom;
  }

  private report(state: number, seen: Uint32Array, epoch: number, found: FoundWords): void {
    let r: number;
    if (state < this.denseEnd) r = (state - this.silentEnd) / this.classes;
    else if (state >= this.deepReportFrom) r = this.denseReporting + (state - this.deepReportFrom);
    else return;
    const end = this.wordStart[r + 1]!;
    for (let w = this.wordStart[r]!; w < end; w++) {
      const id = this.wordIds[w]!;
      if (seen[id] !== epoch) {
        seen[id] = epoch;
        found.ids[found.count++] = id;
      }
    }
  }
}
