import type { Command } from 'commander';
import { loadConfig } from '../../core/config.js';
import { createNormaliser } from '../../ingest/normalise.js';
import { rulesCheck, rulesTest } from '../../rules/cli/index.js';
import { loadAgencies } from '../runtime.js';

/**
 * `siem-lite rules check <paths...>` and `siem-lite rules test <rules> <events>`: the rules engine's own
 * functions (rules/cli/) behind commander. Exit codes: 0 clean, 1 problems or no match, 2 bad usage.
 */
export function registerRulesCommands(program: Command): void {
  const rules = program
    .command('rules')
    .description('Sigma rules: validate a pack, test rules against events');

  rules
    .command('check')
    .description('load and compile rules (files or folders of YAML); one line per problem, then a summary')
    .argument('<paths...>', 'rule files or folders')
    .option('--pipeline <path...>', 'extra processing pipeline files or folders')
    .option('--json', 'one JSON object per line; the last is {"summary": {...}}')
    .action((paths: string[], options: { pipeline?: string[]; json?: boolean }) => {
      const result = rulesCheck({
        paths,
        ...(options.json ? { json: true } : {}),
        ...(options.pipeline ? { pipelines: options.pipeline } : {}),
      });
      finish(result);
    });

  rules
    .command('test')
    .description(
      'run rules (and their correlations) over events as a source sends them (raw syslog lines or agent JSON), ' +
        'and say which events match which rules and why',
    )
    .argument('<rules>', 'a rule file or a folder of rules')
    .argument('<events>', 'the events file: one raw line or JSON document per line')
    .option('-c, --config <file>', 'configuration (agencies and time zone for the normaliser)')
    .option('--ecs', 'the events are ECS documents already: skip the normaliser')
    .option(
      '--no-pipeline',
      "match the rules' field names against flat events as written (as conformance suites do)",
    )
    .option('--pipeline <path...>', 'extra processing pipeline files or folders')
    .option('--json', 'one JSON object per hit; the last line is {"summary": {...}}')
    .action(
      (
        rulePath: string,
        events: string,
        options: { config?: string; ecs?: boolean; pipeline?: string[] | boolean; json?: boolean },
      ) => {
        const { config } = loadConfig(options.config ? { file: options.config } : {});
        // commander turns --no-pipeline into `pipeline: false`; a list means extra pipeline files.
        const noPipeline = options.pipeline === false;
        const result = rulesTest(
          {
            rules: [rulePath],
            events,
            ...(options.json ? { json: true } : {}),
            ...(options.ecs ? { ecs: true } : {}),
            ...(noPipeline ? { noPipeline: true } : {}),
            ...(Array.isArray(options.pipeline) ? { pipelines: options.pipeline } : {}),
          },
          {
            normalise: createNormaliser({
              agencies: loadAgencies(config),
              defaultTimezone: config.ingest.default_timezone,
            }),
          },
        );
        finish(result);
      },
    );
}

function finish(result: { exitCode: number; lines: string[] }): void {
  if (result.lines.length > 0) process.stdout.write(`${result.lines.join('\n')}\n`);
  process.exitCode = result.exitCode;
}
