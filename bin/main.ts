/**
 * The `siem-lite` command line. Each subcommand loads the configuration (file from --config or
 * SIEM_CONFIG, env overrides), validates it, and fails fast naming the key and file on a problem.
 */
import { Command } from 'commander';
import { type Config, ConfigError, loadConfig } from '../core/config.js';
import { createLogger, type Logger } from '../core/logger.js';
import { createKey, formatKeys, KeysCommandError, listKeys, revokeKey } from './commands/keys.js';
import { type ReplayOptions, replay } from './commands/replay.js';
import { registerRulesCommands } from './commands/rules.js';
import { serve } from './commands/serve.js';
import { worker } from './commands/worker.js';
import { boundHeapGrowth } from './heap.js';
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

/**
 * Runs a long-lived service until SIGINT/SIGTERM, then closes it gracefully (a second signal forces). The
 * handlers are in place before the service starts: a worker takes batches before its start has finished,
 * and a signal then must still wait for the start and close it, not kill the process mid-batch.
 */
async function runUntilSignalled(
  start: () => Promise<{ close(): Promise<void> }>,
  logger: Logger,
): Promise<void> {
  boundHeapGrowth();
  const started = start();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutting down');
    started
      .then((service) => service.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  await started;
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

const keys = program.command('keys').description('API keys: create (shown once), list, revoke');

/** Runs a one-shot command; a KeysCommandError is a user error (exit 2), anything else a failure. */
async function oneShot(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (error instanceof KeysCommandError) {
      process.stderr.write(`siem-lite: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

withConfig(keys.command('create'))
  .description('create an API key and print it (the only time it is shown)')
  .requiredOption('--name <name>', 'who or what uses it, e.g. "Sở TT&TT analyst"')
  .requiredOption('--role <role>', 'admin | analyst | agency_analyst | ioc | ingest')
  .option(
    '--agency <id...>',
    'agencies the key is bound to (agency_analyst: one or more; ingest: exactly one)',
  )
  .option('--json', 'print {key, info} as JSON')
  .action(
    async (options: { config?: string; name: string; role: string; agency?: string[]; json?: boolean }) => {
      const { config } = configure(options);
      await oneShot(async () => {
        const { key, info } = await createKey(config, options);
        process.stdout.write(options.json ? `${JSON.stringify({ key, info })}\n` : `${key}\n`);
        if (!options.json)
          process.stderr.write(
            `created key ${info.id} (${info.role}); store it now, it is not shown again\n`,
          );
        process.exit(0);
      });
    },
  );

withConfig(keys.command('list'))
  .description('list API keys (never their text)')
  .option('--json', 'print JSON')
  .action(async (options: { config?: string; json?: boolean }) => {
    const { config } = configure(options);
    await oneShot(async () => {
      const list = await listKeys(config);
      process.stdout.write(options.json ? `${JSON.stringify(list)}\n` : `${formatKeys(list)}\n`);
      process.exit(0);
    });
  });

withConfig(keys.command('revoke'))
  .description('revoke an API key by id (every API process refuses it within seconds)')
  .argument('<id>', 'key id (the 12 hex digits after sl_)')
  .action(async (id: string, options: { config?: string }) => {
    const { config } = configure(options);
    await oneShot(async () => {
      const revoked = await revokeKey(config, id);
      process.stderr.write(`revoked key ${revoked.id} (${revoked.name})\n`);
      process.exit(0);
    });
  });

registerRulesCommands(program);

program
  .command('replay <file-or-dir>')
  .description(
    'send recorded logs (a file, or a folder merged in time order) to a receiver at a chosen rate, timestamps shifted to now',
  )
  .option(
    '-t, --target <url>',
    'udp://, tcp://, tls:// host:port, or an http(s):// ingest URL',
    'tcp://127.0.0.1:5514',
  )
  .option('-r, --rate <lines/s>', 'lines per second (0: as fast as possible)', '1000')
  .option('-s, --speed <factor>', 'keep the recorded gaps, this many times faster (1 = real time)')
  .option('--route <sub=url...>', 'send the files under sub-folder <sub> to <url> (repeatable)')
  .option('--start-at <time>', 'move the earliest line to this ISO 8601 time instead of now')
  .option('--keep-times', 'send the timestamps as recorded')
  .option('--zone <offset>', 'zone of timestamps without one (RFC 3164)', '+07:00')
  .option('--year <year>', 'year of RFC 3164 timestamps (they have none)')
  .option('--framing <lf|octet>', 'TCP/TLS framing (RFC 6587)', 'lf')
  .option('--ca <file>', 'TLS: CA certificate to trust')
  .option('--insecure', 'TLS: do not verify the server certificate (test setups only)')
  .option('--token <token>', 'HTTP: the agency ingest token')
  .option('-q, --quiet', 'no progress bar')
  .action(async (path: string, flags: Record<string, string | string[] | boolean | undefined>) => {
    const routes: Record<string, string> = {};
    for (const route of (flags.route as string[] | undefined) ?? []) {
      const at = route.indexOf('=');
      if (at <= 0) throw new Error(`--route: expected <sub-folder>=<url>, got ${route}`);
      routes[route.slice(0, at)] = route.slice(at + 1);
    }
    const options: ReplayOptions = {
      path,
      target: flags.target as string,
      routes,
      rate: Number(flags.rate),
      ...(flags.speed ? { speed: Number(flags.speed) } : {}),
      startAt: flags.keepTimes ? false : (flags.startAt as string | undefined),
      zone: flags.zone as string,
      framing: flags.framing === 'octet' ? 'octet' : 'lf',
      progress: !flags.quiet,
      ...(flags.year ? { year: Number(flags.year) } : {}),
      ...(flags.ca ? { ca: flags.ca as string } : {}),
      ...(flags.insecure ? { insecure: true } : {}),
      ...(flags.token ? { token: flags.token as string } : {}),
    };
    if (!Number.isFinite(options.rate) || options.rate < 0) throw new Error('--rate: expected a number ≥ 0');
    if (options.speed !== undefined && !(options.speed > 0))
      throw new Error('--speed: expected a number > 0');
    const summary = await replay(options);
    process.stderr.write(
      `replayed ${summary.lines} lines in ${summary.seconds.toFixed(1)} s (${Object.entries(summary.byTarget)
        .map(([target, n]) => `${n} → ${target}`)
        .join(', ')})\n`,
    );
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`siem-lite: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
