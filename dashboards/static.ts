/**
 * Serves the built web pages from the API server: the SOC console at /console/ and the IOC wall at /wall/.
 * The pages are public (they hold no data: every data call they make needs a key) and carry a
 * Content-Security-Policy that allows only this origin — no inline script or style, no other host — set
 * through @fastify/helmet's per-route options, so the rest of the API keeps its own policy.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { ApiError } from '../api/errors.js';
import { builtAssetsDir, DASHBOARD_PAGES } from './pages.js';

const SELF = ["'self'"];
/** helmet options for the pages: its defaults, with every source narrowed to 'self'. */
export const DASHBOARD_HELMET = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: SELF,
      scriptSrc: SELF,
      styleSrc: SELF,
      imgSrc: SELF,
      fontSrc: SELF,
      connectSrc: SELF,
      objectSrc: ["'none'"],
      baseUri: SELF,
      formAction: SELF,
      frameAncestors: ["'none'"],
      scriptSrcAttr: ["'none'"],
      // A province may serve the API over plain HTTP on its own network: upgrading would break the pages.
      upgradeInsecureRequests: null,
    },
  },
};

export interface DashboardOptions {
  /** The built pages (default: dist/dashboards/web of this checkout). */
  assetsDir?: string;
}

export async function dashboardRoutes(app: FastifyInstance, options: DashboardOptions = {}): Promise<void> {
  const assetsDir = options.assetsDir ?? builtAssetsDir();
  // Every route of this plugin (and only these) is public and gets the pages' policy.
  app.addHook('onRoute', (route: RouteOptions) => {
    route.config = {
      ...(route.config ?? {}),
      public: true,
      helmet: DASHBOARD_HELMET,
    } as RouteOptions['config'];
  });
  for (const page of DASHBOARD_PAGES) {
    const root = join(assetsDir, page);
    if (!existsSync(join(root, 'index.html'))) {
      app.log.warn({ page, root }, 'dashboard page not built; run "npm run build"');
      app.get(`/${page}/*`, { schema: { hide: true } }, async () => {
        throw new ApiError(503, 'not_built', `the ${page} page is not built; run "npm run build"`);
      });
      continue;
    }
    await app.register(fastifyStatic, {
      root,
      // Without the trailing slash, so /wall also answers (a redirect to /wall/).
      prefix: `/${page}`,
      decorateReply: false,
      schemaHide: true,
      redirect: true,
      index: 'index.html',
      // Hashed file names never change: cache them for good; the page itself is revalidated every time.
      cacheControl: false,
      setHeaders: (reply, path) => {
        const immutable = path.includes(`${join(root, 'assets')}`);
        void reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }
}
