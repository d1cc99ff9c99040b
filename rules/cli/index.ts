/** The functions behind `siem-lite rules check` and `siem-lite rules test` (bin/ registers them). */
export { type CliResult, formatProblem, type RulesCheckArgs, rulesCheck } from './check.js';
export { type RulesTestArgs, type RulesTestDeps, rulesTest } from './test.js';
