/**
 * The memory store's packed form of an idle group (never sent to Redis, so it may differ from
 * state-store.ts's record): the state's bytes held in a string of one-byte characters (each 0–255), which
 * V8 stores at a byte a character behind a 16-byte header, with no object or string per hit.
 *
 * Layout, `B` then: newest (float64), the group's agencies and values as tables (u16 count, then each as
 * text), the hits (u32 count, then per hit: newest − time as u32, the rule index with the key's kind in
 * its high bit, the agency's index (u8), the value's index + 1 (0: none; u16 when the table holds more than
 * 254 values, u8 otherwise), the key), then the retained firings as the record's JSON, if any.
 *
 * A key in the event id's form (core/identity.ts: 8 lowercase hex digits, 14 base64url ones) is held as
 * its 15 bytes (4 + 84 bits), any other as text. Text: u16 length in code units (high bit: UTF-16, else
 * Latin-1 bytes), so every string reads back exactly, lone surrogates included.
 *
 * For e2e's firewall hits that is 22 bytes a retained hit, against ~43 in the JSON form it replaced. A group
 * holding a chained hit (refs, first), a time that is not an integer or more than 49 days behind the newest,
 * more than 128 rules or 256 agencies keeps state-store.ts's compact JSON (`encodeState`), marked by a
 * leading `J`.
 */
import type { GroupState, WindowHit } from './group-window.js';
import {
  decodeFiring,
  decodeState,
  type EncodedFiring,
  encodeFiring,
  encodeState,
  flatten,
} from './state-store.js';

const BINARY = 0x42; // B
const RECORD = 0x4a; // J
const TEXT_KEY = 0x80;
const UTF16 = 0x8000;
const MAX_TEXT_UNITS = 0x7fff;

const HEX = '0123456789abcdef';
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const HEX_CODES = Array.from(HEX, (c) => c.charCodeAt(0));
const BASE64URL_CODES = Array.from(BASE64URL, (c) => c.charCodeAt(0));
/** A character code's digit value (hex, base64url), or -1. */
const HEX_VALUE = new Int8Array(128).fill(-1);
const BASE64URL_VALUE = new Int8Array(128).fill(-1);
HEX_CODES.forEach((code, digit) => {
  HEX_VALUE[code] = digit;
});
BASE64URL_CODES.forEach((code, digit) => {
  BASE64URL_VALUE[code] = digit;
});
const ID_LENGTH = 22;
const ID_BYTES = 15;

/** Where packing writes and unpacking reads; grows to the largest group seen. */
let bytes = Buffer.allocUnsafe(64 * 1024);

function room(at: number, more: number): void {
  if (at + more <= bytes.length) return;
  const grown = Buffer.allocUnsafe(Math.max(bytes.length * 2, at + more));
  bytes.copy(grown, 0, 0, at);
  bytes = grown;
}

/** Writes an event id's 15 bytes at `at`; false (nothing meaningful written) if `key` is not one. */
function writeEventId(key: string, at: number): boolean {
  if (key.length !== ID_LENGTH) return false;
  for (let i = 0; i < 4; i++) {
    const high = HEX_VALUE[key.charCodeAt(2 * i)] ?? -1;
    const low = HEX_VALUE[key.charCodeAt(2 * i + 1)] ?? -1;
    if (high < 0 || low < 0) return false;
    bytes[at + i] = (high << 4) | low;
  }
  let acc = 0;
  let bits = 0;
  let out = at + 4;
  for (let i = 8; i < ID_LENGTH; i++) {
    const digit = BASE64URL_VALUE[key.charCodeAt(i)] ?? -1;
    if (digit < 0) return false;
    acc = (acc << 6) | digit;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[out++] = acc >>> bits;
      acc &= (1 << bits) - 1;
    }
  }
  bytes[out] = acc << (8 - bits); // the last 4 bits
  return true;
}

const idCodes: number[] = new Array<number>(ID_LENGTH).fill(0);

function readEventId(at: number): string {
  for (let i = 0; i < 4; i++) {
    const byte = bytes[at + i]!;
    idCodes[2 * i] = HEX_CODES[byte >>> 4]!;
    idCodes[2 * i + 1] = HEX_CODES[byte & 15]!;
  }
  let acc = 0;
  let bits = 0;
  let from = at + 4;
  for (let i = 8; i < ID_LENGTH; i++) {
    if (bits < 6) {
      acc = (acc << 8) | bytes[from++]!;
      bits += 8;
    }
    bits -= 6;
    idCodes[i] = BASE64URL_CODES[(acc >>> bits) & 63]!;
    acc &= (1 << bits) - 1;
  }
  // One flat string (a concatenation would be a rope of its pieces).
  return String.fromCharCode.apply(null, idCodes);
}

const BEYOND_LATIN1 = /[^\u0000-\u00ff]/;

/** Writes a text at `at`, returns where it ends, or -1 if it is too long. */
function writeText(text: string, at: number): number {
  if (text.length > MAX_TEXT_UNITS) return -1;
  const wide = BEYOND_LATIN1.test(text);
  room(at, 2 + 2 * text.length);
  bytes.writeUInt16LE(wide ? text.length | UTF16 : text.length, at);
  return at + 2 + bytes.write(text, at + 2, wide ? 'utf16le' : 'latin1');
}

let textEnd = 0;

/** Reads the text at `at`; `textEnd` is then where it ends. */
function readText(at: number): string {
  const header = bytes.readUInt16LE(at);
  const length = header & UTF16 ? 2 * (header & MAX_TEXT_UNITS) : header;
  textEnd = at + 2 + length;
  return bytes.toString(header & UTF16 ? 'utf16le' : 'latin1', at + 2, textEnd);
}

/** The value's index in `table` (distinct values in first-seen order), adding it if new. */
function indexOf(table: Map<string, number>, value: string): number {
  let index = table.get(value);
  if (index === undefined) {
    index = table.size;
    table.set(value, index);
  }
  return index;
}

const record = (state: GroupState) => flatten(`J${encodeState(state)}`);

/** The packed text of a group's state (memory store only; `unpackState` reads it back exactly). */
export function packState(state: GroupState): string {
  const { newest, hits } = state;
  const agencies = new Map<string, number>();
  const values = new Map<string, number>();
  for (const hit of hits) {
    const delta = newest - hit.time;
    if (hit.refs || hit.first !== undefined || !Number.isInteger(delta) || delta < 0 || delta > 0xffffffff)
      return record(state);
    if (hit.rule < 0 || hit.rule >= TEXT_KEY || !Number.isInteger(hit.rule)) return record(state);
    indexOf(agencies, hit.agency);
    if (hit.value !== undefined) indexOf(values, hit.value);
  }
  if (agencies.size > 256 || values.size >= 0xffff) return record(state);
  const wideValues = values.size > 254;

  room(0, 9);
  bytes[0] = BINARY;
  bytes.writeDoubleLE(newest, 1);
  let at = 9;
  for (const table of [agencies, values]) {
    room(at, 2);
    bytes.writeUInt16LE(table.size, at);
    at += 2;
    for (const text of table.keys()) {
      at = writeText(text, at);
      if (at < 0) return record(state);
    }
  }
  room(at, 4);
  bytes.writeUInt32LE(hits.length, at);
  at += 4;
  for (const hit of hits) {
    room(at, 8 + ID_BYTES);
    bytes.writeUInt32LE(newest - hit.time, at);
    const rule = at + 4;
    bytes[at + 5] = agencies.get(hit.agency)!;
    const value = hit.value === undefined ? 0 : values.get(hit.value)! + 1;
    if (wideValues) {
      bytes.writeUInt16LE(value, at + 6);
      at += 8;
    } else {
      bytes[at + 6] = value;
      at += 7;
    }
    if (writeEventId(hit.key, at)) {
      bytes[rule] = hit.rule;
      at += ID_BYTES;
    } else {
      bytes[rule] = hit.rule | TEXT_KEY;
      at = writeText(hit.key, at);
      if (at < 0) return record(state);
    }
  }
  const packed = bytes.toString('latin1', 0, at);
  if (state.firings.length === 0) return packed;
  return flatten(packed + JSON.stringify(state.firings.map(encodeFiring)));
}

export function unpackState(text: string): GroupState {
  if (text.charCodeAt(0) === RECORD) return decodeState(text.slice(1));
  if (text.charCodeAt(0) !== BINARY) throw new Error('not a packed correlation group');
  room(0, text.length);
  // Latin-1 keeps each character's low byte: the binary part exactly, even where the firings' JSON after
  // it holds wider characters (read from `text` itself).
  bytes.write(text, 0, 'latin1');
  const newest = bytes.readDoubleLE(1);
  let at = 9;
  const tables: string[][] = [];
  for (let t = 0; t < 2; t++) {
    const count = bytes.readUInt16LE(at);
    at += 2;
    const table = new Array<string>(count);
    for (let i = 0; i < count; i++) {
      table[i] = readText(at);
      at = textEnd;
    }
    tables.push(table);
  }
  const [agencies, values] = tables as [string[], string[]];
  const wideValues = values.length > 254;
  const count = bytes.readUInt32LE(at);
  at += 4;
  const hits = new Array<WindowHit>(count);
  for (let h = 0; h < count; h++) {
    const time = newest - bytes.readUInt32LE(at);
    const ruleByte = bytes[at + 4]!;
    const rule = ruleByte & ~TEXT_KEY;
    const agency = agencies[bytes[at + 5]!]!;
    let valueIndex: number;
    if (wideValues) {
      valueIndex = bytes.readUInt16LE(at + 6);
      at += 8;
    } else {
      valueIndex = bytes[at + 6]!;
      at += 7;
    }
    let key: string;
    if (ruleByte & TEXT_KEY) {
      key = readText(at);
      at = textEnd;
    } else {
      key = readEventId(at);
      at += ID_BYTES;
    }
    // The literals of correlate.ts's hits: one shape each, with or without a value.
    hits[h] =
      valueIndex === 0
        ? { time, rule, key, agency }
        : { time, rule, key, agency, value: values[valueIndex - 1]! };
  }
  const firings = at < text.length ? (JSON.parse(text.slice(at)) as EncodedFiring[]) : [];
  return { newest, hits, firings: firings.map(decodeFiring) };
}
