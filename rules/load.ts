/**
 * Rule packs from disk: folders of `.yml`/`.yaml` files, each holding one or more YAML documents.
 * Every document either becomes a rule or a problem with its file, line, column and reason; one bad rule
 * never stops the rest of the pack from loading. Duplicate ids are problems too (the first one wins).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseAllDocuments } from 'yaml';
import type { SigmaRule } from './model.js';
import { isMap as isPlainMap } from './parse/detection.js';
import { parseRule } from './parse/rule.js';
import { RuleError, type YamlPath } from './parse/rule-error.js';

export interface RuleProblem {
  file: string;
  line?: number;
  column?: number;
  ruleId?: string;
  message: string;
}

export interface LoadedRules {
  rules: SigmaRule[];
  problems: RuleProblem[];
  /** How many YAML files were read. */
  files: number;
}

/** Every rule file under the given files or folders, sorted so load order (and first-wins) is stable. */
export function listRuleFiles(paths: string[]): string[] {
  const files: string[] = [];
  const visit = (path: string) => {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path).sort()) {
        if (entry.startsWith('.')) continue;
        visit(join(path, entry));
      }
    } else if (/\.ya?ml$/i.test(path)) {
      files.push(path);
    }
  };
  for (const path of paths) visit(path);
  return files;
}

export function loadRuleFiles(paths: string[]): LoadedRules {
  const rules: SigmaRule[] = [];
  const problems: RuleProblem[] = [];
  let files: string[];
  try {
    files = listRuleFiles(paths);
  } catch (error) {
    return { rules, problems: [{ file: paths.join(', '), message: errorMessage(error) }], files: 0 };
  }
  const seenIds = new Map<string, SigmaRule>();
  for (const file of files) {
    const display = displayPath(file);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      problems.push({ file: display, message: errorMessage(error) });
      continue;
    }
    const parsed = parseRuleText(text, display);
    problems.push(...parsed.problems);
    for (const rule of parsed.rules) {
      const previous = seenIds.get(rule.id);
      if (previous) {
        problems.push({
          file: display,
          line: rule.line,
          ruleId: rule.id,
          message: `duplicate rule id ${rule.id} (already defined in ${previous.file}:${previous.line})`,
        });
        continue;
      }
      seenIds.set(rule.id, rule);
      rules.push(rule);
    }
  }
  return { rules, problems, files: files.length };
}

/** Parses the text of one rule file (any number of documents). `file` is only used in messages. */
export function parseRuleText(text: string, file: string): { rules: SigmaRule[]; problems: RuleProblem[] } {
  const rules: SigmaRule[] = [];
  const problems: RuleProblem[] = [];
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (!Array.isArray(documents)) return { rules, problems }; // an empty stream
  let global: Record<string, unknown> | undefined;
  for (const doc of documents) {
    const start = lineCounter.linePos(doc.contents?.range?.[0] ?? doc.range?.[0] ?? 0);
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        const pos = lineCounter.linePos(error.pos[0]);
        problems.push({
          file,
          line: pos.line,
          column: pos.col,
          message: `YAML: ${firstLine(error.message)}`,
        });
      }
      continue;
    }
    let value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue; // an empty document (e.g. a trailing `---`)
    // Sigma v1 collections: `action: global` is merged into every following document of the file.
    if (isPlainMap(value) && value.action !== undefined) {
      if (value.action === 'global') {
        const { action: _a, ...rest } = value;
        global = rest;
        continue;
      }
      if (value.action === 'reset') {
        global = undefined;
        continue;
      }
    }
    if (global && isPlainMap(value)) value = deepMerge(global, value);
    const ruleId = isPlainMap(value) && typeof value.id === 'string' ? value.id : undefined;
    try {
      rules.push(parseRule(value, file, start.line));
    } catch (error) {
      const at = error instanceof RuleError ? locate(doc, error.path, lineCounter) : start;
      problems.push({
        file,
        line: at.line,
        column: at.col,
        ...(ruleId ? { ruleId } : {}),
        message: errorMessage(error),
      });
    }
  }
  return { rules, problems };
}

/** Line and column of the node a path points at: for a map key, the key itself. */
function locate(doc: Document, path: YamlPath, lineCounter: LineCounter): { line: number; col: number } {
  let node: Node | null | undefined = doc.contents as Node | null;
  let offset = doc.contents?.range?.[0] ?? doc.range?.[0] ?? 0;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      const keyNode = pair.key as Node;
      offset = keyNode.range?.[0] ?? offset;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return lineCounter.linePos(offset);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const existing = out[key];
    out[key] = isPlainMap(existing) && isPlainMap(value) ? deepMerge(existing, value) : value;
  }
  return out;
}

function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
