/**
 * Builds the web pages with Vite: one build per page, each with its own base (/console/, /wall/), so a
 * page's HTML, script and stylesheet all sit under the prefix the API serves it from. Run by `npm run build`
 * (compiled, as dist/dashboards/build.js) and by the browser tests (from source) so they never test stale
 * assets. Vite is already in the tree through vitest; no other tool is needed.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'vite';
import { builtAssetsDir, DASHBOARD_PAGES, webSourcesDir } from './pages.js';

export async function buildDashboards(outDir = builtAssetsDir()): Promise<string> {
  const sources = webSourcesDir();
  for (const page of DASHBOARD_PAGES) {
    await build({
      configFile: false,
      envDir: false,
      root: join(sources, page),
      base: `/${page}/`,
      logLevel: 'warn',
      build: {
        outDir: join(outDir, page),
        emptyOutDir: true,
        target: 'es2022',
        // One entry per page: nothing to preload, and the polyfill would be an inline-free but useless script.
        modulePreload: { polyfill: false },
        reportCompressedSize: false,
        // Never inline an asset as a data: URL: the pages' CSP allows files from this origin only.
        assetsInlineLimit: 0,
        sourcemap: true,
      },
    });
  }
  return outDir;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const outDir = await buildDashboards();
  process.stdout.write(`dashboards built into ${outDir}\n`);
}
