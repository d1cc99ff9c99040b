/**
 * The rules as analysts see and change them: the packs on disk (origin `bundled`) overlaid with what the
 * RuleRepository holds (uploads and edits, origin `api`; enable/disable flags; false-positive filters) —
 * the same overlay every worker compiles (correlator/live-rules.ts). Bundled rules are never copied into
 * the repository wholesale: the packs stay the source of truth for what ships, so an upgrade of a pack
 * reaches every rule nobody edited. Editing a bundled rule stores an `api` override with the same id;
 * deleting that override reverts to the bundled text; a bundled rule itself cannot be deleted, only disabled.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { Versioned } from '../../core/model.js';
import type { RuleRepository, StoredRule } from '../../core/ports.js';
import {
  CompiledRuleSet,
  type CorrelationRule,
  compileCorrelations,
  type DetectionRule,
  type FilterRule,
  filterApplies,
  loadPipeline,
  loadRulePacks,
  type Pipeline,
  parseRuleText,
  type RuleProblem,
  type SigmaRule,
} from '../../rules/index.js';
import { ApiError } from '../errors.js';

/** Upload size limit: a Sigma rule is a page of YAML. */
export const MAX_RULE_YAML = 256 * 1024;

export interface CatalogEntry {
  id: string;
  /** The rule as parsed from its effective YAML; undefined when a stored text no longer parses. */
  rule?: SigmaRule;
  yaml: string;
  kind: StoredRule['kind'];
  origin: 'bundled' | 'api';
  /** A pack on disk ships a rule with this id (an `api` entry then overrides it). */
  bundled: boolean;
  enabled: boolean;
  /** The repository version (null: the pack's rule, never changed through the API). */
  version: string | null;
  /** Detection Rule License attribution: the upstream file of a SigmaHQ-derived rule. */
  link?: string;
  agency?: string;
  incidentId?: string;
  updatedAt?: string;
  updatedBy?: string;
  /** Why a stored text is not in effect (it stopped compiling, e.g. after a pipeline change). */
  problems: RuleProblem[];
}

interface Snapshot {
  entries: Map<string, CatalogEntry>;
  /**
   * The enabled rules as the workers compile them (filters applied, correlations resolved): what compiled
   * and the correlations. The compiled tests themselves are not kept — the workers hold their own, and in
   * `serve` a second matcher (automata, prefilter) was ~40 MB of the process for nothing.
   */
  ruleSet: Pick<CompiledRuleSet, 'rules' | 'correlations'>;
  pipeline: Pipeline;
  detections: DetectionRule[];
  correlations: CorrelationRule[];
  filters: FilterRule[];
}

interface BundledRule {
  rule: SigmaRule;
  yaml: string;
  link?: string;
}

export class RuleCatalog {
  readonly #repository: RuleRepository;
  readonly #bundled = new Map<string, BundledRule>();
  #snapshot: Promise<Snapshot> | undefined;
  #unsubscribe: (() => Promise<void>) | undefined;

  constructor(options: { packs: string[]; repository: RuleRepository }) {
    this.#repository = options.repository;
    // Parsed only: the compiled set is built on first use, with the stored rules (#build).
    const loaded = loadRulePacks(options.packs);
    const links = loaded.links;
    const texts = new DocumentTexts();
    for (const rule of loaded.rules) {
      const link = links.get(rule.id);
      this.#bundled.set(rule.id, {
        rule,
        yaml: texts.at(rule.file, rule.line),
        ...(link ? { link } : {}),
      });
    }
  }

  /** Follows the repository (changes made by other processes drop the cached view). */
  async start(): Promise<void> {
    this.#unsubscribe = await this.#repository.onChange(() => {
      this.#snapshot = undefined;
    });
  }

  async close(): Promise<void> {
    await this.#unsubscribe?.();
  }

  /** Forget the cached view (after a write through this catalog). */
  invalidate(): void {
    this.#snapshot = undefined;
  }

  async entries(): Promise<CatalogEntry[]> {
    return [...(await this.#current()).entries.values()].sort((a, b) => compareText(a.id, b.id));
  }

  async get(id: string): Promise<CatalogEntry | undefined> {
    return (await this.#current()).entries.get(id.toLowerCase());
  }

  /** The effective, compiled rules (hunting and false-positive filters read them). */
  async compiled(): Promise<Snapshot> {
    return this.#current();
  }

  isBundled(id: string): boolean {
    return this.#bundled.has(id.toLowerCase());
  }

  bundledText(id: string): BundledRule | undefined {
    return this.#bundled.get(id.toLowerCase());
  }

  /**
   * Parses and compiles one uploaded rule as the workers would, against the rules in effect (a
   * correlation's references, a filter's targets). Refuses with 400 `invalid_rule` and each problem's
   * line and column.
   */
  async validate(yaml: string, expectedId?: string): Promise<SigmaRule> {
    if (yaml.length > MAX_RULE_YAML) {
      throw new ApiError(400, 'invalid_rule', `a rule is at most ${MAX_RULE_YAML} characters`);
    }
    const parsed = parseRuleText(yaml, 'rule.yml');
    if (parsed.problems.length > 0) throw invalid(parsed.problems);
    if (parsed.rules.length !== 1) {
      throw invalid([{ file: 'rule.yml', line: 1, column: 1, message: 'send exactly one rule document' }]);
    }
    const rule = parsed.rules[0]!;
    if (!/^id[ \t]*:/m.test(yaml)) {
      throw invalid([
        {
          file: 'rule.yml',
          line: rule.line,
          column: 1,
          message: 'id is required (a UUID, e.g. from `uuidgen`): it names the rule everywhere',
        },
      ]);
    }
    if (expectedId !== undefined && rule.id !== expectedId.toLowerCase()) {
      throw invalid([
        {
          file: 'rule.yml',
          line: rule.line,
          column: 1,
          message: `the rule's id ${rule.id} is not the id in the path (${expectedId})`,
        },
      ]);
    }
    const snapshot = await this.#current();
    const problems = compileProblems(rule, snapshot);
    if (problems.length > 0) throw invalid(problems);
    return rule;
  }

  async #current(): Promise<Snapshot> {
    this.#snapshot ??= this.#build().catch((error: unknown) => {
      this.#snapshot = undefined;
      throw error;
    });
    return this.#snapshot;
  }

  async #build(): Promise<Snapshot> {
    const stored = await this.#repository.list();
    const entries = new Map<string, CatalogEntry>();
    for (const [id, bundled] of this.#bundled) {
      entries.set(id, {
        id,
        rule: bundled.rule,
        yaml: bundled.yaml,
        kind: bundled.rule.kind,
        origin: 'bundled',
        bundled: true,
        enabled: true,
        version: null,
        ...(bundled.link ? { link: bundled.link } : {}),
        problems: [],
      });
    }
    for (const record of stored) entries.set(record.value.id, this.#entryOf(record));
    const { pipeline } = loadPipeline();
    const enabled = [...entries.values()].filter((entry) => entry.enabled && entry.rule);
    const rules = enabled.map((entry) => entry.rule!);
    const detections = rules.filter((r): r is DetectionRule => r.kind === 'detection');
    const filters = rules.filter((r): r is FilterRule => r.kind === 'filter');
    const correlations = rules.filter((r): r is CorrelationRule => r.kind === 'correlation');
    // Compiled to find the problems and resolve the correlations; matching is the workers' (no prefilter).
    const ruleSet = new CompiledRuleSet(pipeline, { prefilter: false });
    for (const rule of detections) {
      const problem = ruleSet.add(rule, entries.get(rule.id)?.link, filters);
      if (problem) entries.get(rule.id)?.problems.push(problem);
    }
    const compiled = compileCorrelations(correlations, detections, pipeline);
    for (const problem of compiled.problems) {
      if (problem.ruleId) entries.get(problem.ruleId)?.problems.push(problem);
    }
    ruleSet.setCorrelations(compiled.compiled, (rule) => entries.get(rule.id)?.link);
    return {
      entries,
      ruleSet: { rules: ruleSet.rules, correlations: ruleSet.correlations },
      pipeline,
      detections,
      correlations,
      filters,
    };
  }

  #entryOf({ value, version }: Versioned<StoredRule>): CatalogEntry {
    const bundled = this.#bundled.get(value.id);
    // A record that only flips a bundled rule on or off keeps the pack's current text.
    const yaml = value.origin === 'bundled' && bundled ? bundled.yaml : value.yaml;
    const parsed =
      value.origin === 'bundled' && bundled
        ? { rules: [bundled.rule], problems: [] }
        : parseRuleText(yaml, `rule-repository:${value.id}`);
    const rule = parsed.rules.find((r) => r.id === value.id) ?? parsed.rules[0];
    return {
      id: value.id,
      ...(rule ? { rule } : {}),
      yaml,
      kind: value.kind,
      origin: value.origin,
      bundled: bundled !== undefined,
      enabled: value.enabled,
      version,
      ...(bundled?.link ? { link: bundled.link } : {}),
      ...(value.agency !== undefined ? { agency: value.agency } : {}),
      ...(value.incidentId !== undefined ? { incidentId: value.incidentId } : {}),
      updatedAt: value.updatedAt,
      updatedBy: value.updatedBy,
      problems: [...parsed.problems],
    };
  }
}

/** What stops a rule from compiling in the current rule set (empty when it compiles). */
function compileProblems(rule: SigmaRule, snapshot: Snapshot): RuleProblem[] {
  const { pipeline } = snapshot;
  switch (rule.kind) {
    case 'detection': {
      const problem = new CompiledRuleSet(pipeline).add(rule, undefined, snapshot.filters);
      return problem ? [problem] : [];
    }
    case 'correlation': {
      const others = snapshot.correlations.filter((c) => c.id !== rule.id);
      const detections = snapshot.detections.filter((d) => d.id !== rule.id);
      return compileCorrelations([...others, rule], detections, pipeline).problems.filter(
        (problem) => problem.ruleId === rule.id,
      );
    }
    case 'filter': {
      const problems: RuleProblem[] = [];
      for (const detection of snapshot.detections) {
        if (!filterApplies(rule, detection)) continue;
        const problem = new CompiledRuleSet(pipeline).add(detection, undefined, [rule]);
        if (problem) problems.push({ ...problem, file: 'rule.yml', line: rule.line });
      }
      return problems;
    }
  }
}

function invalid(problems: RuleProblem[]): ApiError {
  const first = problems[0]!;
  const at =
    first.line !== undefined ? ` (line ${first.line}${first.column ? `, column ${first.column}` : ''})` : '';
  return new ApiError(400, 'invalid_rule', `${first.message}${at}`, {
    problems: problems.map((problem) => ({
      ...(problem.line !== undefined ? { line: problem.line } : {}),
      ...(problem.column !== undefined ? { column: problem.column } : {}),
      message: problem.message,
    })),
  });
}

/** The text of each YAML document of the pack files, by the line its content starts on. */
class DocumentTexts {
  readonly #files = new Map<string, Map<number, string>>();

  at(file: string, line: number): string {
    let documents = this.#files.get(file);
    if (!documents) {
      documents = new Map();
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        // unreadable now: the rule was loaded, its text is just not shown
      }
      const lineCounter = new LineCounter();
      const parsed = parseAllDocuments(text, { lineCounter });
      for (const doc of Array.isArray(parsed) ? parsed : []) {
        const start = lineCounter.linePos(doc.contents?.range?.[0] ?? doc.range[0]).line;
        documents.set(start, `${text.slice(doc.range[0], doc.range[2]).trimEnd()}\n`);
      }
      this.#files.set(file, documents);
    }
    return documents.get(line) ?? '';
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
