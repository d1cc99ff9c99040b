/**
 * The rule set a worker matches with: the packs on disk, overlaid with the rules and filters stored
 * through the API (RuleRepository), recompiled whenever the repository reports a change in any process.
 * A false-positive filter written by an analyst thus applies to the next batch in every worker.
 */
import type { Logger } from '../core/logger.js';
import type { RuleRepository } from '../core/ports.js';
import {
  CompiledRuleSet,
  type CorrelationRule,
  compileCorrelations,
  type DetectionRule,
  type FilterRule,
  loadPipeline,
  loadRulePacks,
  loadRuleSet,
  parseRuleText,
  type RuleProblem,
  type RuleSet,
  type SigmaRule,
} from '../rules/index.js';

export interface LiveRuleSetOptions {
  packs: string[];
  repository?: RuleRepository;
  logger: Logger;
}

export class LiveRuleSet {
  private current: RuleSet = new CompiledRuleSet(loadPipeline().pipeline);
  private unsubscribe?: () => Promise<void>;
  private reloading: Promise<void> = Promise.resolve();
  private generation = 0;

  constructor(private readonly options: LiveRuleSetOptions) {}

  /** Loads once, then follows the repository's changes. */
  async start(): Promise<void> {
    await this.reload();
    if (this.options.repository) {
      this.unsubscribe = await this.options.repository.onChange(() => {
        // Serialised: a burst of changes ends with the newest state compiled.
        this.reloading = this.reloading.then(() =>
          this.reload().catch((error: unknown) =>
            this.options.logger.error(
              { err: (error as Error).message },
              'rule reload failed; keeping the previous rules',
            ),
          ),
        );
      });
    }
  }

  /** The rule set for the next batch (a batch keeps the one it started with). */
  get(): RuleSet {
    return this.current;
  }

  /** Resolves once changes reported so far are compiled in (tests, the API's "applied" answer). */
  async settled(): Promise<number> {
    await this.reloading;
    return this.generation;
  }

  async close(): Promise<void> {
    await this.unsubscribe?.();
  }

  private async reload(): Promise<void> {
    const stored = (await this.options.repository?.list()) ?? [];
    if (stored.length === 0) {
      // Only the packs: the rules engine's own loader (which also links SigmaHQ rules upstream).
      const loaded = loadRuleSet({ packs: this.options.packs });
      this.report(loaded.problems, loaded.ruleSet, 0);
      this.current = loaded.ruleSet;
      this.generation++;
      return;
    }
    // The packs parsed (not compiled: the overlay is compiled below), with the upstream links of SigmaHQ-
    // derived rules (the Detection Rule License asks for them on every alert), kept when a stored edit or
    // filter overlays the rule.
    const disk = loadRulePacks(this.options.packs);
    const problems = disk.problems;
    const links = disk.links;
    const byId = new Map<string, SigmaRule>(disk.rules.map((rule) => [rule.id, rule]));
    for (const { value: rule } of stored) {
      if (!rule.enabled) {
        byId.delete(rule.id);
        continue;
      }
      const parsed = parseRuleText(rule.yaml, `rule-repository:${rule.id}`);
      problems.push(...parsed.problems);
      for (const rule of parsed.rules) byId.set(rule.id, rule);
    }
    const all = [...byId.values()];
    const { pipeline, problems: pipelineProblems } = loadPipeline();
    problems.push(...pipelineProblems);
    const ruleSet = new CompiledRuleSet(pipeline);
    const filters = all.filter((r): r is FilterRule => r.kind === 'filter');
    const detections = all.filter((r): r is DetectionRule => r.kind === 'detection');
    for (const rule of detections) {
      const problem = ruleSet.add(rule, links.get(rule.id), filters);
      if (problem) problems.push(problem);
    }
    const correlations = compileCorrelations(
      all.filter((r): r is CorrelationRule => r.kind === 'correlation'),
      detections,
      pipeline,
    );
    problems.push(...correlations.problems);
    ruleSet.setCorrelations(correlations.compiled, (rule) => links.get(rule.id));
    this.report(problems, ruleSet, filters.length);
    this.current = ruleSet;
    this.generation++;
  }

  private report(problems: RuleProblem[], ruleSet: CompiledRuleSet, filters: number): void {
    for (const problem of problems) {
      this.options.logger.warn(
        { file: problem.file, line: problem.line, rule: problem.ruleId },
        `rule skipped: ${problem.message}`,
      );
    }
    this.options.logger.info(
      {
        rules: ruleSet.rules.length,
        correlations: ruleSet.correlations.length,
        filters,
        skipped: problems.length,
        generation: this.generation + 1,
      },
      'rules loaded',
    );
  }
}
