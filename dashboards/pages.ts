/**
 * Where the web pages live: sources under dashboards/web/<page>/, built by Vite into
 * dist/dashboards/web/<page>/ and served by the API under /<page>/. Shared by the build (dev-only, imports
 * Vite) and the server (runtime), so neither imports the other.
 */
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DASHBOARD_PAGES = ['console', 'wall'] as const;
export type DashboardPage = (typeof DASHBOARD_PAGES)[number];

/** The repository root: this module runs from dashboards/ (sources, tests) or dist/dashboards/ (built). */
export function repositoryRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return basename(dirname(here)) === 'dist' ? resolve(here, '../..') : resolve(here, '..');
}

/**
 * The built pages, one folder per page: `DASHBOARDS_DIR` when set (pages built elsewhere; the browser
 * tests build into a temporary folder rather than into the checkout's dist/), else dist/dashboards/web.
 */
export function builtAssetsDir(root = repositoryRoot()): string {
  return process.env.DASHBOARDS_DIR || join(root, 'dist', 'dashboards', 'web');
}

/** The page sources (HTML, TypeScript, CSS). */
export function webSourcesDir(root = repositoryRoot()): string {
  return join(root, 'dashboards', 'web');
}
