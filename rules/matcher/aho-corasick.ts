/**
 * A multi-pattern substring automaton (Aho–Corasick) over UTF-16 code units: one pass over a text finds
 * every dictionary word it contains, whatever the number of words. The prefilter uses it so that a
 * thousand `contains` rules cost one scan of the event's text, not a thousand `indexOf`s.
 *
 * Layout for speed: the automaton is fully deterministic (failure links are folded into the transition
 * table when it is built), over character classes: every code unit that occurs in some word has a class,
 * all others share class 0 (which always leads back to the root). A scan step is two array reads, and
 * states are numbered so that the states where some word ends come last: "did a word end here" is one
 * comparison. Words are lower-case; the scan folds ASCII upper case through the class table, so texts
 * need no lower-cased copy unless they hold a non-ASCII character that lower-casing would change.
 */

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
  /** state × classes + class → next state × classes (offsets, so a step needs no multiplication). */
  private readonly next: Int32Array;
  /** Offset of the first state where a word ends; every state from there on reports words. */
  private readonly reportFrom: number;
  /** For reporting state r (counted from reportFrom): its word ids are wordIds[wordStart[r] .. wordStart[r+1]). */
  private readonly wordStart: Int32Array;
  private readonly wordIds: Int32Array;
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

    // The trie, one row of `classes` entries per state (-1: no edge yet).
    let capacity = 1;
    for (const word of words) capacity += word.length;
    const rows = new Int32Array(capacity * classes).fill(-1);
    let states = 1;
    const endsAt: number[][] = [[]];
    for (let id = 0; id < words.length; id++) {
      const word = words[id]!;
      if (word.length === 0) continue;
      let state = 0;
      for (let i = 0; i < word.length; i++) {
        const at = state * classes + classOf(word.charCodeAt(i));
        let child = rows[at]!;
        if (child < 0) {
          child = states++;
          rows[at] = child;
          endsAt.push([]);
        }
        state = child;
      }
      // A repeated word keeps its first id.
      if (endsAt[state]!.length === 0) endsAt[state]!.push(ids ? ids[id]! : id);
    }

    // Breadth-first: fill every missing edge with the failure state's edge, and inherit its words.
    const fail = new Int32Array(states);
    const queue = new Int32Array(states);
    let tail = 0;
    for (let c = 0; c < classes; c++) {
      const child = rows[c]!;
      if (child < 0) rows[c] = 0;
      else queue[tail++] = child;
    }
    for (let head = 0; head < tail; head++) {
      const state = queue[head]!;
      const failTo = fail[state]!;
      for (const id of endsAt[failTo]!) endsAt[state]!.push(id);
      for (let c = 0; c < classes; c++) {
        const at = state * classes + c;
        const child = rows[at]!;
        const viaFail = rows[failTo * classes + c]!;
        if (child < 0) rows[at] = viaFail;
        else {
          fail[child] = viaFail;
          queue[tail++] = child;
        }
      }
    }

    // Renumber in breadth-first order (shallow states, where scans spend their time, close together):
    // states that report nothing first (the root stays 0), then the reporting ones.
    const bfs = [0, ...queue.subarray(0, tail)];
    const order = bfs.filter((s) => endsAt[s]!.length === 0);
    const silent = order.length;
    for (const s of bfs) if (endsAt[s]!.length > 0) order.push(s);
    const renamed = new Int32Array(states);
    order.forEach((state, i) => {
      renamed[state] = i;
    });
    this.next = new Int32Array(states * classes);
    for (let i = 0; i < states; i++) {
      const from = order[i]! * classes;
      for (let c = 0; c < classes; c++) this.next[i * classes + c] = renamed[rows[from + c]!]! * classes;
    }
    this.reportFrom = silent * classes;
    this.wordStart = new Int32Array(states - silent + 1);
    const reported: number[] = [];
    for (let i = silent; i < states; i++) {
      this.wordStart[i - silent] = reported.length;
      for (const id of endsAt[order[i]!]!) reported.push(id);
    }
    this.wordStart[states - silent] = reported.length;
    this.wordIds = Int32Array.from(reported);
    this.states = states;
  }

  /**
   * Finds the words occurring in `text`, compared case-insensitively: each word id not yet marked
   * `seen[id] === epoch` is marked and appended to `found`. Returns false (having found only part) when the
   * text holds a non-ASCII character that lower-casing changes: then scan `text.toLowerCase()` with
   * `scanLowerCase` instead.
   */
  scan(text: string, seen: Uint32Array, epoch: number, found: number[]): boolean {
    const asciiClass = this.asciiClass;
    const folds = this.folds;
    const next = this.next;
    const reportFrom = this.reportFrom;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      let c: number;
      if (code < 128) c = asciiClass[code]!;
      else if (folds[code] === 1) return false;
      else c = this.otherClass.get(code) ?? 0;
      state = next[state + c]!;
      if (state >= reportFrom) this.report(state, seen, epoch, found);
    }
    return true;
  }

  /** As `scan`, for a text already lower-cased. */
  scanLowerCase(text: string, seen: Uint32Array, epoch: number, found: number[]): void {
    const asciiClass = this.asciiClass;
    const next = this.next;
    const reportFrom = this.reportFrom;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      state = next[state + (code < 128 ? asciiClass[code]! : (this.otherClass.get(code) ?? 0))]!;
      if (state >= reportFrom) this.report(state, seen, epoch, found);
    }
  }

  /** Whether some word occurs in `text`, which is already lower-cased (stops at the first one). */
  occursInLowerCase(text: string): boolean {
    const asciiClass = this.asciiClass;
    const next = this.next;
    const reportFrom = this.reportFrom;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      state = next[state + (code < 128 ? asciiClass[code]! : (this.otherClass.get(code) ?? 0))]!;
      if (state >= reportFrom) return true;
    }
    return false;
  }

  private report(state: number, seen: Uint32Array, epoch: number, found: number[]): void {
    const r = (state - this.reportFrom) / this.classes;
    const end = this.wordStart[r + 1]!;
    for (let w = this.wordStart[r]!; w < end; w++) {
      const id = this.wordIds[w]!;
      if (seen[id] !== epoch) {
        seen[id] = epoch;
        found.push(id);
      }
    }
  }
}
