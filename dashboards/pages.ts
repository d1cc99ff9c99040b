/**
 * Where the web pages live: sources under dashboards/web/<page>/, built by Vite into
 * dist/dashboards/web/<page>/ and served by the API under /<page>/. Shared by the build (dev-only, imports
 * Vite) and the server (runtime), so neither imports the other.
 */
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../core/package-root.js';

export const DASHBOARD_PAGES = ['console', 'wall'] as const;
export type DashboardPage = (typeof DASHBOARD_PAGES)[number];

/**
 * The built pages, one folder per page: `DASHBOARDS_DIR` when set (pages built elsewhere; the browser
 * tests build into a temporary folder rather than into the checkout's dist/), else dist/dashboards/web.
 */
export function builtAssetsDir(root = PACKAGE_ROOT): string {
  return process.env.DASHBOARDS_DIR || join(root, 'dist', 'dashboards', 'web');
}

/** The page sources (HTML, TypeScript, CSS). */
export function webSourcesDir(root = PACKAGE_ROOT): string {
  return join(root, 'dashboards', 'web');
}
