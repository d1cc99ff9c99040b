import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';
import type { ApiKeyService, Principal, Role } from './keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** Routes that answer without a key (health probes, docs). */
    public?: boolean;
    /** Roles allowed on the route; default: every authenticated role but `ingest` and `ioc`. */
    roles?: readonly Role[];
  }
}

/** Who may triage: read incidents and events, and change incidents. */
export const TRIAGE_ROLES: readonly Role[] = ['admin', 'analyst', 'agency_analyst'];
export const ADMIN_ONLY: readonly Role[] = ['admin'];
/** Province-wide analysts and admins: rule changes affect every agency. */
export const PROVINCE_ROLES: readonly Role[] = ['admin', 'analyst'];

/** The API is never anonymous: every route but the public ones needs `Authorization: Bearer <key>`. */
export function registerAuth(app: FastifyInstance, keys: ApiKeyService): void {
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if (config?.public) return;
    const header = request.headers.authorization;
    if (!header?.startsWith('Bearer ')) {
      throw new ApiError(401, 'unauthenticated', 'send an API key as "Authorization: Bearer <key>"');
    }
    const principal = await keys.verify(header.slice('Bearer '.length).trim());
    if (!principal) throw new ApiError(401, 'unauthenticated', 'unknown or revoked API key');
    request.principal = principal;
    const roles = config?.roles ?? TRIAGE_ROLES;
    if (!roles.includes(principal.role)) {
      throw new ApiError(403, 'forbidden', `role ${principal.role} may not use this route`);
    }
  });
}

/**
 * The agencies a request may read, intersected with what it asked for. Enforced on the server for every
 * read: a scoped caller naming another agency gets nothing of it (an empty list means "nothing").
 */
export function agencyScope(request: FastifyRequest, requested?: string[]): string[] | undefined {
  const allowed = request.principal?.agencies;
  if (!allowed) return requested && requested.length > 0 ? requested : undefined;
  if (!requested || requested.length === 0) return allowed;
  return requested.filter((agency) => allowed.includes(agency));
}

/** True when the caller may see (and, with a triage role, act on) the agency's data. */
export function mayAccess(request: FastifyRequest, agency: string): boolean {
  const allowed = request.principal?.agencies;
  return !allowed || allowed.includes(agency);
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new ApiError(401, 'unauthenticated', 'no API key on this request');
  return request.principal;
}
