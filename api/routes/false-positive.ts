/**
 * `POST /api/incidents/{id}/false-positive`: closes the incident as a false positive and, when asked,
 * stores the Sigma exception filter for it (the rule, the incident's agency and group-by values) in the
 * RuleRepository, so every worker stops firing that rule for that entity with its next batch.
 */
import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { RuleRepository } from '../../core/ports.js';
import type { Auditor } from '../audit.js';
import { principalOf } from '../auth.js';
import type { RuleCatalog } from '../rules/catalog.js';
import { type FalsePositiveFilter, falsePositiveFilters } from '../rules/false-positive.js';
import { Id, WRITE_ERRORS } from '../schemas.js';
import type { IncidentTriage } from '../triage/incident-service.js';

export async function falsePositiveRoutes(
  app: FastifyInstance,
  options: { triage: IncidentTriage; catalog: RuleCatalog; repository: RuleRepository; auditor: Auditor },
): Promise<void> {
  const { triage, catalog, repository, auditor } = options;

  app.post<{ Params: { id: string }; Body: { version: string; reason?: string; filter: boolean } }>(
    '/api/incidents/:id/false-positive',
    {
      schema: {
        tags: ['incidents'],
        summary: 'Mark a false positive, optionally with a Sigma exception filter',
        description:
          'Sets the status to `false_positive` (carrying the version read: 409 with the current state when stale). With `filter: true`, also stores a Sigma filter for the incident’s rule (a correlation: the detection rules it counts), scoped to its agency and group-by values; every worker applies it to new events at once. 422 `no_filter_scope` when the incident has no group-by values to scope it to.',
        params: T.Object({ id: Id('incident id') }),
        body: T.Object(
          {
            version: T.String({ minLength: 1, maxLength: 100 }),
            reason: T.Optional(T.String({ maxLength: 2000 })),
            filter: T.Boolean({ default: false, description: 'also create the exception filter' }),
          },
          {
            additionalProperties: false,
            examples: [{ version: '4', reason: 'the vulnerability scanner of Sở TT&TT', filter: true }],
          },
        ),
        response: {
          200: T.Object({
            incident: T.Ref('Incident'),
            version: T.String(),
            filters: T.Array(
              T.Object({
                id: T.String(),
                rules: T.Array(T.String(), { description: 'the detection rules it applies to' }),
                selection: T.Record(T.String(), T.String()),
                yaml: T.String(),
              }),
            ),
          }),
          ...WRITE_ERRORS,
        },
      },
    },
    async (request) => {
      const { version, reason, filter } = request.body;
      const current = await triage.read(request, request.params.id);
      let filters: FalsePositiveFilter[] = [];
      if (filter) {
        // Built before the status changes: an incident no filter can be scoped to is refused whole.
        const { ruleSet } = await catalog.compiled();
        filters = falsePositiveFilters(current.value, ruleSet, {
          actor: principalOf(request).name,
          ...(reason ? { reason } : {}),
          at: new Date().toISOString(),
        });
      }
      const updated = await triage.update(request, request.params.id, version, {
        status: 'false_positive',
        ...(reason ? { reason } : {}),
      });
      for (const made of filters) {
        const existing = await repository.get(made.rule.id);
        const outcome = await repository.put(made.rule, existing?.version ?? null);
        if (outcome === 'conflict') {
          // Marked twice at once: the other request stored the same filter.
          continue;
        }
        await auditor.record(request, {
          action: existing ? 'rule.update' : 'rule.create',
          targetType: 'rule',
          targetId: made.rule.id,
          agency: current.value.agency,
          ...(existing ? { before: { yaml: existing.value.yaml, enabled: existing.value.enabled } } : {}),
          after: { yaml: made.rule.yaml, enabled: true, incidentId: current.value.id },
        });
      }
      if (filters.length > 0) catalog.invalidate();
      return {
        incident: updated.value,
        version: updated.version,
        filters: filters.map((made) => ({
          id: made.rule.id,
          rules: made.rules,
          selection: made.selection,
          yaml: made.rule.yaml,
        })),
      };
    },
  );
}
