/**
 * The package's root folder, where its package.json is. Modules run from the sources (tsx, vitest) or
 * compiled under dist/, one level deeper: files the package ships beside its code (rule packs, pipelines,
 * fixtures, web pages) are found from the root, never relative to a module, or the compiled service
 * silently misses them.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'siem-lite';

/** The nearest folder above `moduleUrl` holding siem-lite's package.json. */
export function packageRootOf(moduleUrl: string | URL): string {
  const start = dirname(fileURLToPath(moduleUrl));
  for (let dir = start; ; dir = dirname(dir)) {
    if (isOurPackage(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir)
      throw new Error(`${PACKAGE_NAME}: no package.json of ${PACKAGE_NAME} above ${start}`);
  }
}

function isOurPackage(file: string): boolean {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

/** This installation's root. */
export const PACKAGE_ROOT = packageRootOf(import.meta.url);

/** The package's version, from its package.json. */
export const PACKAGE_VERSION = (
  JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
