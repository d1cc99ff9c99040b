/**
 * Runs the real `siem-lite` CLI as child processes (from source, through tsx), the way an operator runs it.
 * With COMPILED_CLI=1 in the environment (not a SIEM_ name: those are config keys) it runs the built command (`bin/siem-lite.js` → dist/, after
 * `npm run build`) instead: what production runs, without tsx's loader thread (benchmarks measuring RSS).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface SiemProcess {
  child: ChildProcess;
  /** Everything written so far (stdout + stderr), for diagnostics. */
  output(): string;
  stop(): Promise<void>;
}

/** `nodeArgs`: flags for node itself (benchmarks: `--cpu-prof`; not allowed in NODE_OPTIONS). */
export function startSiem(args: string[], env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): SiemProcess {
  const entry = process.env.COMPILED_CLI === '1' ? ['bin/siem-lite.js'] : ['--import', 'tsx', 'bin/main.ts'];
  const child = spawn(process.execPath, [...nodeArgs, ...entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A port free for both TCP and UDP right now (syslog listens on both with one number). */
export async function freePort(): Promise<number> {
  const { createSocket } = await import('node:dgram');
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
}

/** Polls `probe` until it returns a value that is not `undefined`, or fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
  diagnostics?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const detail = diagnostics ? `\n--- process output ---\n${diagnostics().slice(-4000)}` : '';
  throw new Error(
    `timed out waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}${detail}`,
  );
}
