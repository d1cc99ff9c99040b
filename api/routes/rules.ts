/**
 * Rules for analysts: the list with hit counts and last hit, one rule with its YAML and attribution,
 * enable/disable, upload or edit (validated by the rules engine: 400 `invalid_rule` with line and column),
 * delete. Every change goes through the RuleRepository, so every worker recompiles at once.
 * Rules are province-wide: changing them needs a province role, except the false-positive filters of an
 * agency, which that agency's analysts may also switch off or delete.
 */
import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncidentQueries, RuleHits, RuleRepository, StoredRule } from '../../core/ports.js';
import type { Auditor } from '../audit.js';
import { agencyScope, mayAccess, principalOf, TRIAGE_ROLES } from '../auth.js';
import { ApiError } from '../errors.js';
import type { CatalogEntry, RuleCatalog } from '../rules/catalog.js';
import { Id, READ_ERRORS, Time, WRITE_ERRORS } from '../schemas.js';

const DRL =
  'Detection Rule License (DRL) 1.1, https://github.com/SigmaHQ/Detection-Rule-License: keep the author and this link wherever its alerts are shown.';

const Problem = T.Object({
  line: T.Optional(T.Integer()),
  column: T.Optional(T.Integer()),
  message: T.String(),
});

const summaryFields = {
  id: T.String(),
  title: T.String(),
  kind: T.Union([T.Literal('detection'), T.Literal('correlation'), T.Literal('filter')]),
  level: T.Optional(T.String()),
  status: T.Optional(T.String()),
  origin: T.Union([T.Literal('bundled'), T.Literal('api')], {
    description: '`bundled`: from a pack on disk; `api`: uploaded, edited or made by a false-positive mark',
  }),
  bundled: T.Boolean({ description: 'a pack ships a rule with this id (an `api` rule then overrides it)' }),
  enabled: T.Boolean(),
  tags: T.Array(T.String()),
  author: T.Optional(T.String()),
  link: T.Optional(T.String({ description: 'upstream rule (SigmaHQ-derived rules, DRL 1.1)' })),
  hits: T.Object({
    count: T.Integer({ description: 'detections stored for it, within your agency scope' }),
    lastHit: T.Union([T.String({ format: 'date-time' }), T.Null()]),
  }),
  version: T.Union([T.String(), T.Null()], {
    description: 'send it back when you change the rule; null: the pack’s rule, never changed',
  }),
  agency: T.Optional(T.String({ description: 'false-positive filters: the agency it belongs to' })),
  incidentId: T.Optional(T.String()),
  problems: T.Array(Problem, { description: 'why it is not in effect (empty when it is)' }),
};

export const RuleSummarySchema = T.Object(summaryFields, {
  $id: 'RuleSummary',
  examples: [
    {
      id: '8777fb77-a27d-45a0-9f0a-2a8dc9f15429',
      title: 'SSH Failed Password',
      kind: 'detection',
      level: 'medium',
      status: 'stable',
      origin: 'bundled',
      bundled: true,
      enabled: true,
      tags: ['attack.credential_access', 'attack.t1110'],
      author: 'siem-lite (Hau Giang provincial SOC)',
      hits: { count: 1284, lastHit: '2025-03-01T02:14:40.000Z' },
      version: null,
      problems: [],
    },
  ],
});

export const RuleDetailSchema = T.Object(
  {
    ...summaryFields,
    description: T.Optional(T.String()),
    references: T.Array(T.String()),
    falsepositives: T.Array(T.String()),
    logsource: T.Optional(T.Record(T.String(), T.String())),
    yaml: T.String({ description: 'the Sigma YAML in effect' }),
    license: T.Optional(T.String({ description: 'the licence and attribution of a SigmaHQ-derived rule' })),
    updatedAt: T.Optional(T.String()),
    updatedBy: T.Optional(T.String()),
  },
  {
    $id: 'RuleDetail',
    examples: [
      {
        id: '8777fb77-a27d-45a0-9f0a-2a8dc9f15429',
        title: 'SSH Failed Password',
        kind: 'detection',
        level: 'medium',
        origin: 'bundled',
        bundled: true,
        enabled: true,
        tags: ['attack.credential_access'],
        author: 'siem-lite (Hau Giang provincial SOC)',
        hits: { count: 1284, lastHit: '2025-03-01T02:14:40.000Z' },
        version: null,
        problems: [],
        references: ['https://attack.mitre.org/techniques/T1110/'],
        falsepositives: ['Users mistyping their password'],
        logsource: { product: 'linux', service: 'sshd' },
        yaml: 'title: SSH Failed Password\nid: 8777fb77-a27d-45a0-9f0a-2a8dc9f15429\n…',
      },
    ],
  },
);

const RULE_EXAMPLE = [
  'title: Login from a decommissioned jump host',
  'id: 0b0c3c52-4f7e-4a43-9a51-3a1f1bb6f0d1',
  'author: SOC Hau Giang',
  'logsource: { product: linux, service: sshd }',
  'detection:',
  '  selection:',
  '    event.action: ssh_login',
  '    event.outcome: success',
  '    source.ip: 10.20.5.17',
  '  condition: selection',
  'level: high',
  '',
].join('\n');

const RuleIdParams = T.Object({ id: Id('rule id (a UUID)') });
const Yaml = T.String({
  minLength: 1,
  maxLength: 256 * 1024,
  description: 'one Sigma rule, filter or correlation',
});

function scopedHits(hits: RuleHits[]): Map<string, RuleHits> {
  return new Map(hits.map((hit) => [hit.ruleId, hit]));
}

function summaryOf(entry: CatalogEntry, hits: RuleHits | undefined) {
  const rule = entry.rule;
  return {
    id: entry.id,
    title: rule?.title ?? entry.id,
    kind: entry.kind,
    ...(rule ? { level: rule.level, tags: rule.tags } : { tags: [] }),
    ...(rule?.status ? { status: rule.status } : {}),
    origin: entry.origin,
    bundled: entry.bundled,
    enabled: entry.enabled,
    ...(rule?.author ? { author: rule.author } : {}),
    ...(entry.link ? { link: entry.link } : {}),
    hits: { count: hits?.count ?? 0, lastHit: hits?.lastHit ?? null },
    version: entry.version,
    ...(entry.agency !== undefined ? { agency: entry.agency } : {}),
    ...(entry.incidentId !== undefined ? { incidentId: entry.incidentId } : {}),
    problems: entry.problems.map((problem) => ({
      ...(problem.line !== undefined ? { line: problem.line } : {}),
      ...(problem.column !== undefined ? { column: problem.column } : {}),
      message: problem.message,
    })),
  };
}

function detailOf(entry: CatalogEntry, hits: RuleHits | undefined) {
  const rule = entry.rule;
  const logsource = rule && rule.kind !== 'correlation' ? rule.logsource : undefined;
  return {
    ...summaryOf(entry, hits),
    ...(rule?.description ? { description: rule.description } : {}),
    references: rule?.references ?? [],
    falsepositives: rule?.falsepositives ?? [],
    ...(logsource && Object.keys(logsource).length > 0
      ? { logsource: logsource as Record<string, string> }
      : {}),
    yaml: entry.yaml,
    ...(entry.link?.startsWith('https://github.com/SigmaHQ/') ? { license: DRL } : {}),
    ...(entry.updatedAt ? { updatedAt: entry.updatedAt } : {}),
    ...(entry.updatedBy ? { updatedBy: entry.updatedBy } : {}),
  };
}

/** A caller sees every rule but the false-positive filters of agencies outside its scope. */
function visible(request: FastifyRequest, entry: CatalogEntry): boolean {
  return entry.agency === undefined || mayAccess(request, entry.agency);
}

/** Province roles change any rule; scoped analysts only their agencies' false-positive filters. */
function mayChange(request: FastifyRequest, entry: CatalogEntry | undefined): boolean {
  const principal = principalOf(request);
  if (principal.role === 'admin' || principal.role === 'analyst') return true;
  return entry?.agency !== undefined && mayAccess(request, entry.agency);
}

export async function ruleRoutes(
  app: FastifyInstance,
  options: {
    catalog: RuleCatalog;
    repository: RuleRepository;
    queries: IncidentQueries;
    auditor: Auditor;
  },
): Promise<void> {
  const { catalog, repository, queries, auditor } = options;
  const hitsFor = async (request: FastifyRequest, from?: string, to?: string) =>
    scopedHits(
      queries.ruleHits
        ? await queries.ruleHits({
            ...(agencyScope(request) ? { agencies: agencyScope(request)! } : {}),
            ...(from ? { from } : {}),
            ...(to ? { to } : {}),
          })
        : [],
    );
  const find = async (request: FastifyRequest, id: string): Promise<CatalogEntry> => {
    const entry = await catalog.get(id);
    if (!entry || !visible(request, entry)) throw new ApiError(404, 'not_found', `no rule ${id}`);
    return entry;
  };
  const detail = async (request: FastifyRequest, id: string) => {
    const entry = await find(request, id);
    return detailOf(entry, (await hitsFor(request)).get(entry.id));
  };
  const audit = (
    // Every write ends here: the cached view is dropped first (other processes drop theirs on onChange).
    request: FastifyRequest,
    action: string,
    id: string,
    before: CatalogEntry | undefined,
    after: unknown,
  ) => {
    catalog.invalidate();
    return auditor.record(request, {
      action,
      targetType: 'rule',
      targetId: id,
      ...(before?.agency !== undefined ? { agency: before.agency } : {}),
      ...(before ? { before: { yaml: before.yaml, enabled: before.enabled, origin: before.origin } } : {}),
      ...(after !== undefined ? { after } : {}),
    });
  };
  const conflict = async (request: FastifyRequest, id: string) => {
    catalog.invalidate();
    const current = await detail(request, id).catch(() => undefined);
    return new ApiError(409, 'conflict', `rule ${id} was changed since you read it; read it again`, {
      current,
    });
  };

  app.get<{
    Querystring: {
      kind?: string;
      origin?: string;
      enabled?: boolean;
      q?: string;
      from?: string;
      to?: string;
    };
  }>(
    '/api/rules',
    {
      config: { roles: TRIAGE_ROLES },
      schema: {
        tags: ['rules'],
        summary: 'Every rule, filter and correlation, with hit counts and last hit',
        description:
          'Bundled pack rules (origin `bundled`) and those uploaded, edited or made by false-positive marks (origin `api`). Hits are the detections stored within your agency scope, optionally in [from, to).',
        querystring: T.Object(
          {
            kind: T.Optional(
              T.Union([T.Literal('detection'), T.Literal('correlation'), T.Literal('filter')]),
            ),
            origin: T.Optional(T.Union([T.Literal('bundled'), T.Literal('api')])),
            enabled: T.Optional(T.Boolean()),
            q: T.Optional(T.String({ maxLength: 200, description: 'words of the title, or an id' })),
            from: T.Optional(Time('hits at or after')),
            to: T.Optional(Time('hits before')),
          },
          { additionalProperties: false },
        ),
        response: {
          200: T.Object({ total: T.Integer(), rules: T.Array(T.Ref('RuleSummary')) }),
          ...READ_ERRORS,
        },
      },
    },
    async (request) => {
      const { kind, origin, enabled, q, from, to } = request.query;
      const needle = q?.toLowerCase();
      const [entries, hits] = await Promise.all([catalog.entries(), hitsFor(request, from, to)]);
      const rules = entries
        .filter((entry) => visible(request, entry))
        .filter((entry) => kind === undefined || entry.kind === kind)
        .filter((entry) => origin === undefined || entry.origin === origin)
        .filter((entry) => enabled === undefined || entry.enabled === enabled)
        .filter(
          (entry) =>
            needle === undefined ||
            entry.id.includes(needle) ||
            (entry.rule?.title.toLowerCase().includes(needle) ?? false),
        )
        .map((entry) => summaryOf(entry, hits.get(entry.id)));
      return { total: rules.length, rules };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/rules/:id',
    {
      config: { roles: TRIAGE_ROLES },
      schema: {
        tags: ['rules'],
        summary: 'One rule: its YAML, author, link and licence, hits',
        params: RuleIdParams,
        response: { 200: T.Ref('RuleDetail'), ...READ_ERRORS },
      },
    },
    async (request) => detail(request, request.params.id),
  );

  app.post<{ Body: { yaml: string } }>(
    '/api/rules/validate',
    {
      config: { roles: TRIAGE_ROLES },
      schema: {
        tags: ['rules'],
        summary: 'Check a rule without saving it',
        description:
          '200 with what it parsed to, or 400 `invalid_rule` with `details.problems` (line, column, message).',
        body: T.Object({ yaml: Yaml }, { additionalProperties: false, examples: [{ yaml: RULE_EXAMPLE }] }),
        response: {
          200: T.Object(
            { valid: T.Literal(true), id: T.String(), kind: T.String(), title: T.String() },
            {
              examples: [
                {
                  valid: true,
                  id: '0b0c3c52-4f7e-4a43-9a51-3a1f1bb6f0d1',
                  kind: 'detection',
                  title: 'Login from a decommissioned jump host',
                },
              ],
            },
          ),
          ...READ_ERRORS,
        },
      },
    },
    async (request) => {
      const rule = await catalog.validate(request.body.yaml);
      return { valid: true as const, id: rule.id, kind: rule.kind, title: rule.title };
    },
  );

  app.post<{ Body: { yaml: string; enabled?: boolean } }>(
    '/api/rules',
    {
      config: { roles: TRIAGE_ROLES },
      schema: {
        tags: ['rules'],
        summary: 'Upload a Sigma rule, filter or correlation',
        description:
          'The YAML must carry its `id` (a UUID). Validated and compiled as the workers would; 400 `invalid_rule` with `details.problems` (line, column, message); 409 when the id exists (edit it with PUT).',
        body: T.Object(
          { yaml: Yaml, enabled: T.Optional(T.Boolean({ default: true })) },
          { additionalProperties: false, examples: [{ yaml: RULE_EXAMPLE }] },
        ),
        response: { 201: T.Ref('RuleDetail'), ...WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      if (!mayChange(request, undefined)) throw forbidden();
      const rule = await catalog.validate(request.body.yaml);
      if ((await catalog.get(rule.id)) !== undefined) {
        throw new ApiError(409, 'exists', `rule ${rule.id} exists; change it with PUT /api/rules/${rule.id}`);
      }
      const stored = storedRule(request, rule.id, rule.kind, request.body.yaml, request.body.enabled ?? true);
      if ((await repository.put(stored, null)) === 'conflict') throw await conflict(request, rule.id);
      await audit(request, 'rule.create', rule.id, undefined, { yaml: stored.yaml, enabled: stored.enabled });
      void reply.status(201).header('location', `/api/rules/${rule.id}`);
      return detail(request, rule.id);
    },
  );

  app.put<{ Params: { id: string }; Body: { yaml: string; version: string | null; enabled?: boolean } }>(
    '/api/rules/:id',
    {
      config: { roles: TRIAGE_ROLES },
      schema: {
        tags: ['rules'],
        summary: 'Edit a rule (editing a bundled rule stores an override)',
        description:
          'Carries the `version` read (null for a bundled rule never changed). 409 `conflict` with the current rule when it moved; 400 `invalid_rule` with line and column.',
        params: RuleIdParams,
        body: T.Object(
          {
            yaml: Yaml,
            version: T.Union([T.String({ minLength: 1, maxLength: 100 }), T.Null()]),
            enabled: T.Optional(T.Boolean()),
          },
          { additionalProperties: false, examples: [{ yaml: RULE_EXAMPLE, version: '3' }] },
        ),
        response: { 200: T.Ref('RuleDetail'), ...WRITE_ERRORS },
      },
    },
    async (request) => {
      const id = request.params.id.toLowerCase();
      const before = await find(request, id);
      if (!mayChange(request, before)) throw forbidden();
      const rule = await catalog.validate(request.body.yaml, id);
      // A record that only switched a bundled rule off is replaced as if the rule were unchanged.
      const stored = await repository.get(id);
      const expected = stored?.version ?? null;
      if (request.body.version !== expected) throw await conflict(request, id);
      const next = storedRule(
        request,
        id,
        rule.kind,
        request.body.yaml,
        request.body.enabled ?? before.enabled,
      );
      if (before.agency !== undefined) next.agency = before.agency;
      if (before.incidentId !== undefined) next.incidentId = before.incidentId;
      if ((await repository.put(next, expected)) === 'conflict') throw await conflict(request, id);
      await audit(request, 'rule.update', id, before, { yaml: next.yaml, enabled: next.enabled });
      return detail(request, id);
    },
  );

  app.patch<{ Params: { id: string }; Body: { enabled: boolean } }>(
    '/api/rules/:id',
    {
      config: { roles: TRIAGE_ROLES },
      schema: {
        tags: ['rules'],
        summary: 'Enable or disable a rule',
        params: RuleIdParams,
        body: T.Object(
          { enabled: T.Boolean() },
          { additionalProperties: false, examples: [{ enabled: false }] },
        ),
        response: { 200: T.Ref('RuleDetail'), ...WRITE_ERRORS },
      },
    },
    async (request) => {
      const id = request.params.id.toLowerCase();
      const before = await find(request, id);
      if (!mayChange(request, before)) throw forbidden();
      const enabled = request.body.enabled;
      if (before.enabled !== enabled) {
        const stored = await repository.get(id);
        if (stored && stored.value.origin === 'bundled' && enabled) {
          // Back to the pack as shipped: no record at all.
          await repository.delete(id);
        } else if (stored) {
          const next: StoredRule = { ...stored.value, enabled, ...touched(request) };
          if ((await repository.put(next, stored.version)) === 'conflict') throw await conflict(request, id);
        } else {
          // A bundled rule switched off: a record holding the flag (its text stays the pack's).
          const next = storedRule(request, id, before.kind, before.yaml, enabled);
          next.origin = 'bundled';
          if ((await repository.put(next, null)) === 'conflict') throw await conflict(request, id);
        }
        await audit(request, enabled ? 'rule.enable' : 'rule.disable', id, before, { enabled });
      }
      return detail(request, id);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/rules/:id',
    {
      config: { roles: TRIAGE_ROLES },
      schema: {
        tags: ['rules'],
        summary: 'Delete a rule (an override of a bundled rule: revert to the pack)',
        description:
          'Bundled rules cannot be deleted (409 `bundled_rule`): disable them. Deleting the `api` override of a bundled rule reverts it to the pack’s text (`outcome: reverted`).',
        params: RuleIdParams,
        response: {
          200: T.Object(
            { id: T.String(), outcome: T.Union([T.Literal('deleted'), T.Literal('reverted')]) },
            { examples: [{ id: '0b0c3c52-4f7e-4a43-9a51-3a1f1bb6f0d1', outcome: 'deleted' }] },
          ),
          ...WRITE_ERRORS,
        },
      },
    },
    async (request) => {
      const id = request.params.id.toLowerCase();
      const before = await find(request, id);
      if (!mayChange(request, before)) throw forbidden();
      if (before.origin === 'bundled') {
        throw new ApiError(409, 'bundled_rule', `rule ${id} ships with a pack; disable it instead`);
      }
      await repository.delete(id);
      const outcome = before.bundled ? ('reverted' as const) : ('deleted' as const);
      await audit(request, 'rule.delete', id, before, { outcome });
      return { id, outcome };
    },
  );
}

function touched(request: FastifyRequest): { updatedAt: string; updatedBy: string } {
  return { updatedAt: new Date().toISOString(), updatedBy: principalOf(request).name };
}

function storedRule(
  request: FastifyRequest,
  id: string,
  kind: StoredRule['kind'],
  yaml: string,
  enabled: boolean,
): StoredRule {
  return { id, yaml, kind, enabled, origin: 'api', ...touched(request) };
}

function forbidden(): ApiError {
  return new ApiError(
    403,
    'forbidden',
    'rules are province-wide: changing them needs an admin or analyst key',
  );
}
