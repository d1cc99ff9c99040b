import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BUNDLED_FIXTURES } from '../rules/fixtures/fixtures.js';
import { BUNDLED_PACK, BUNDLED_PIPELINES } from '../rules/index.js';
import { PACKAGE_ROOT, packageRootOf } from './package-root.js';

describe('package root', () => {
  it('is found from a module in the sources and from the same module compiled under dist/', () => {
    const sources = pathToFileURL(join(PACKAGE_ROOT, 'rules', 'pipeline', 'load-pipelines.ts'));
    const compiled = pathToFileURL(join(PACKAGE_ROOT, 'dist', 'rules', 'pipeline', 'load-pipelines.js'));
    expect(packageRootOf(sources)).toBe(PACKAGE_ROOT);
    expect(packageRootOf(compiled)).toBe(PACKAGE_ROOT);
    expect(existsSync(join(PACKAGE_ROOT, 'package.json'))).toBe(true);
  });

  it('names the folder when no package is above it', () => {
    expect(() => packageRootOf(pathToFileURL('/nowhere/module.js'))).toThrow(
      /no package.json of siem-lite above \/nowhere/,
    );
  });

  it('locates the files the package ships beside its code', () => {
    for (const dir of [BUNDLED_PIPELINES, BUNDLED_PACK, BUNDLED_FIXTURES]) {
      expect(dir.startsWith(PACKAGE_ROOT)).toBe(true);
      expect(dir.includes(`${PACKAGE_ROOT}/dist`)).toBe(false);
      expect(existsSync(dir)).toBe(true);
    }
  });
});
