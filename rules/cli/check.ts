/**
 * `siem-lite rules check <path...>`: load rule files or folders, compile every rule to each backend, and print
 * one line per problem and a summary. Exit 0 when there is no problem, 1 when there are, 2 on a usage error.
 * `--json`: one JSON object per line, the last `{"summary": {"files", "loaded", "compiled", "errors"}}`.
 */
import { existsSync } from 'node:fs';
import { compileToElasticsearch } from '../backends/elasticsearch.js';
import { compileToSql } from '../backends/sql.js';
import { loadRuleSet } from '../index.js';
import type { RuleProblem } from '../load.js';
import type { FilterRule } from '../model.js';

export interface CliResult {
  exitCode: number;
  /** Output lines for stdout, in order. */
  lines: string[];
}

export interface RulesCheckArgs {
  paths: string[];
  json?: boolean;
  /** Extra pipeline files or folders. */
  pipelines?: string[];
}

export function formatProblem(problem: RuleProblem): string {
  const at = [problem.file, problem.line, problem.column].filter((p) => p !== undefined).join(':');
  return `${at}: ${problem.message}${problem.ruleId ? ` [${problem.ruleId}]` : ''}`;
}

export function rulesCheck(args: RulesCheckArgs): CliResult {
  const missing = args.paths.filter((p) => !existsSync(p));
  if (args.paths.length === 0 || missing.length > 0) {
    const message =
      args.paths.length === 0 ? 'no rule path given' : `no such file or folder: ${missing.join(', ')}`;
    return {
      exitCode: 2,
      lines: [args.json ? JSON.stringify({ error: message }) : `rules check: ${message}`],
    };
  }
  const { ruleSet, problems, rules, pipeline, files } = loadRuleSet({
    packs: args.paths,
    ...(args.pipelines ? { pipelines: args.pipelines } : {}),
  });
  const filters = rules.filter((r): r is FilterRule => r.kind === 'filter');
  // A rule counts as compiled when every backend takes it: the matcher, Elasticsearch and SQL.
  let compiled = ruleSet.correlations.length;
  for (const rule of rules) {
    if (rule.kind !== 'detection' || !ruleSet.rules.some((r) => r.id === rule.id)) continue;
    const failures: string[] = [];
    for (const [backend, compile] of [
      ['elasticsearch', () => compileToElasticsearch(rule, { pipeline, filters })],
      ['sql', () => compileToSql(rule, { pipeline, filters })],
    ] as const) {
      try {
        compile();
      } catch (error) {
        failures.push(`${backend}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (failures.length === 0) compiled++;
    else
      problems.push({
        file: rule.file,
        line: rule.line,
        ruleId: rule.id,
        message: `cannot compile to ${failures.join('; ')}`,
      });
  }
  const summary = {
    files,
    loaded: rules.length,
    compiled,
    errors: problems.length,
  };
  const lines = args.json
    ? [...problems.map((p) => JSON.stringify(p)), JSON.stringify({ summary })]
    : [
        ...problems.map(formatProblem),
        `${summary.files} files, ${summary.loaded} rules loaded, ${summary.compiled} compiled to every backend, ${summary.errors} ${summary.errors === 1 ? 'error' : 'errors'}`,
      ];
  return { exitCode: problems.length > 0 ? 1 : 0, lines };
}
