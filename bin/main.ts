/**
 * The `siem-lite` command line. Each subcommand loads the configuration (file from --config or
 * SIEM_CONFIG, env overrides), validates it, and fails fast naming the key and file on a problem.
 */
import { Command } from 'commander';
import { type Config, ConfigError, loadConfig } from '../core/config.js';
import { createLogger, type Logger } from '../core/logger.js';
import { serve } from './commands/serve.js';
import { worker } from './commands/worker.js';
import { VERSION } from './runtime.js';

const program = new Command()
  .name('siem-lite')
  .description(
    'A SIEM-lite: syslog and agent ingest, ECS normalisation, Sigma detection and correlation, incidents.',
  )
  .version(VERSION);

function withConfig(command: Command): Command {
  return command.option(
    '-c, --config <file>',
    'configuration file (YAML); default: $SIEM_CONFIG, else built-in defaults',
  );
}

function configure(options: { config?: string }): { config: Config; logger: Logger } {
  try {
    const { config } = loadConfig(options.config ? { file: options.config } : {});
    return { config, logger: createLogger({ level: config.log_level }) };
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`siem-lite: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/** Runs a long-lived service until SIGINT/SIGTERM, then closes it gracefully (a second signal forces). */
async function runUntilSignalled(
  start: () => Promise<{ close(): Promise<void> }>,
  logger: Logger,
): Promise<void> {
  const service = await start();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutting down');
    service.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

withConfig(program.command('serve'))
  .description('run ingest listeners and the API (embedded mode: also the worker stages, in this process)')
  .action(async (options: { config?: string }) => {
    const { config, logger } = configure(options);
    await runUntilSignalled(() => serve(config, logger), logger);
  });

withConfig(program.command('worker'))
  .description(
    'scale mode: consume record batches from Redis (BullMQ): normalise, index, match, open incidents',
  )
  .action(async (options: { config?: string }) => {
    const { config, logger } = configure(options);
    await runUntilSignalled(() => worker(config, logger), logger);
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`siem-lite: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
