/**
 * A multi-pattern substring automaton (Aho–Corasick) over UTF-16 code units: one pass over a text finds
 * every dictionary word it contains, whatever the number of words. The prefilter uses it so that a
 * thousand `contains` rules cost one scan of the event's text, not a thousand `indexOf`s.
 *
 * Layout for speed: the root's transitions are a dense table over all code units; every other node keeps
 * its children as a sorted run in two typed arrays (most nodes have one child). Each node also keeps the
 * word ending there (if any) and a link to the nearest shorter suffix that ends a word.
 */
export class AhoCorasick {
  private readonly rootNext = new Int32Array(65536).fill(-1);
  private readonly childStart: Int32Array;
  private readonly childEnd: Int32Array;
  private readonly childCode: Uint16Array;
  private readonly childNode: Int32Array;
  private readonly fail: Int32Array;
  /** Word id ending at the node, or -1. */
  private readonly word: Int32Array;
  /** Nearest proper suffix node that ends a word, or -1. */
  private readonly dict: Int32Array;
  /**
   * Shallow nodes (depth ≤ 2, where a scan spends most of its steps) get a full ASCII row of the
   * deterministic automaton: next node for each code unit < 128, failure links already followed.
   */
  private readonly denseRow: Int32Array;
  private readonly dense: Int32Array;
  readonly size: number;

  constructor(words: readonly string[]) {
    this.size = words.length;
    // Build a plain trie first.
    const children: Map<number, number>[] = [new Map()];
    const wordAt: number[] = [-1];
    for (let id = 0; id < words.length; id++) {
      const text = words[id]!;
      let node = 0;
      for (let i = 0; i < text.length; i++) {
        const code = text.charCodeAt(i);
        let child = children[node]!.get(code);
        if (child === undefined) {
          child = wordAt.length;
          children.push(new Map());
          wordAt.push(-1);
          children[node]!.set(code, child);
        }
        node = child;
      }
      if (wordAt[node] === -1) wordAt[node] = id;
    }
    const count = wordAt.length;
    this.word = Int32Array.from(wordAt);
    this.childStart = new Int32Array(count);
    this.childEnd = new Int32Array(count);
    const total = children.reduce((n, m) => n + m.size, 0);
    this.childCode = new Uint16Array(total);
    this.childNode = new Int32Array(total);
    let at = 0;
    for (let node = 0; node < count; node++) {
      const sorted = [...children[node]!].sort((a, b) => a[0] - b[0]);
      this.childStart[node] = at;
      for (const [code, child] of sorted) {
        this.childCode[at] = code;
        this.childNode[at] = child;
        at++;
      }
      this.childEnd[node] = at;
    }
    for (const [code, child] of children[0]!) this.rootNext[code] = child;

    // Breadth-first: a node's failure link is the longest proper suffix of its path that is in the trie.
    this.fail = new Int32Array(count);
    this.dict = new Int32Array(count).fill(-1);
    const queue: number[] = [...children[0]!.values()];
    for (let head = 0; head < queue.length; head++) {
      const node = queue[head]!;
      for (let c = this.childStart[node]!; c < this.childEnd[node]!; c++) {
        const code = this.childCode[c]!;
        const child = this.childNode[c]!;
        let f = this.fail[node]!;
        let target = this.step(f, code);
        while (target < 0 && f !== 0) {
          f = this.fail[f]!;
          target = this.step(f, code);
        }
        const failTo = target >= 0 && target !== child ? target : 0;
        this.fail[child] = failTo;
        this.dict[child] = this.word[failTo] !== -1 ? failTo : this.dict[failTo]!;
        queue.push(child);
      }
    }

    // Dense rows, in breadth-first order so a node's failure target (shallower) is filled before it.
    const depth = new Int32Array(count);
    for (const child of children[0]!.values()) depth[child] = 1;
    const shallow = [0];
    for (const node of queue) {
      const nodeDepth = depth[node]!;
      for (let c = this.childStart[node]!; c < this.childEnd[node]!; c++)
        depth[this.childNode[c]!] = nodeDepth + 1;
      if (nodeDepth <= 2) shallow.push(node);
    }
    this.denseRow = new Int32Array(count).fill(-1);
    shallow.forEach((node, row) => {
      this.denseRow[node] = row;
    });
    this.dense = new Int32Array(shallow.length * 128);
    shallow.forEach((node, row) => {
      for (let code = 0; code < 128; code++) {
        let target = this.step(node, code);
        if (target < 0) {
          target = node === 0 ? 0 : this.dense[this.denseRow[this.fail[node]!]! * 128 + code]!;
        }
        this.dense[row * 128 + code] = target;
      }
    });
  }

  /** The child of `node` on `code`, or -1. */
  private step(node: number, code: number): number {
    if (node === 0) return this.rootNext[code]!;
    const codes = this.childCode;
    let low = this.childStart[node]!;
    let high = this.childEnd[node]! - 1;
    if (low === high) return codes[low] === code ? this.childNode[low]! : -1;
    if (high - low < 8) {
      for (let c = low; c <= high; c++) if (codes[c] === code) return this.childNode[c]!;
      return -1;
    }
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const v = codes[mid]!;
      if (v === code) return this.childNode[mid]!;
      if (v < code) low = mid + 1;
      else high = mid - 1;
    }
    return -1;
  }

  /** Calls `found(id)` for each dictionary word occurring in `text` (a word may be reported more than once). */
  scan(text: string, found: (id: number) => void): void {
    const fail = this.fail;
    const word = this.word;
    const dict = this.dict;
    const denseRow = this.denseRow;
    const dense = this.dense;
    let node = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      const row = denseRow[node]!;
      if (code < 128 && row >= 0) {
        node = dense[row * 128 + code]!;
        if (word[node] !== -1) found(word[node]!);
        for (let d = dict[node]!; d !== -1; d = dict[d]!) found(word[d]!);
        continue;
      }
      let target = this.step(node, code);
      while (target < 0 && node !== 0) {
        node = fail[node]!;
        target = this.step(node, code);
      }
      node = Math.max(target, 0);
      if (word[node] !== -1) found(word[node]!);
      for (let d = dict[node]!; d !== -1; d = dict[d]!) found(word[d]!);
    }
  }
}
