/**
 * A real embedded `serve` in this process, as the end-to-end suites start it: data under `dir`, the API and
 * one TCP syslog listener (agency so-tttt) on free ports, batches flushed after 20 ms, logs silent.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RunningService, serve } from '../../bin/commands/serve.js';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';

export async function serveEmbedded(dir: string): Promise<{ service: RunningService; adminKey: string }> {
  const file = join(dir, 'siem-lite.yaml');
  writeFileSync(
    file,
    [
      'mode: embedded',
      `data_dir: ${join(dir, 'data')}`,
      'log_level: silent',
      'api: { host: 127.0.0.1, port: 0 }',
      'ingest:',
      '  batch_max_wait: 20ms',
      '  listeners:',
      '    - { id: syslog-tcp, transport: tcp, host: 127.0.0.1, port: 0, agency: so-tttt }',
    ].join('\n'),
  );
  const { config } = loadConfig({ file, env: {} });
  const service = await serve(config, createLogger({ level: 'silent' }));
  return { service, adminKey: readFileSync(join(dir, 'data', 'admin.key'), 'utf8').trim() };
}
