/**
 * One incident: summary, triage actions, evidence events (with the line as received), the detection chain,
 * related incidents, timeline and notes. Every change carries the version read; a 409 shows the incident as
 * it now is and lets the analyst retry on the new version or drop the change. A live change by someone
 * else is announced, not applied under the analyst's hands: they reload when ready.
 */
import { ApiRequestError } from '../shared/api.js';
import { type Child, h, replace } from '../shared/element.js';
import { field } from '../shared/fields.js';
import { formatDuration, formatNumber, formatTime } from '../shared/format.js';
import { label, type MessageKey, t } from '../shared/i18n.js';
import type {
  Detection,
  Incident,
  IncidentChange,
  IncidentDetail,
  IncidentStatus,
  SecurityEvent,
  VersionedIncident,
} from '../shared/types.js';
import { agencyName, type ConsoleContext, type ConsoleView } from './context.js';
import { severityBadge, statusBadge } from './list.js';

/** The status buttons offered from each status (api/triage/transitions.ts allows forward jumps and reopen). */
const NEXT: Record<IncidentStatus, { to: IncidentStatus; key: MessageKey }[]> = {
  new: [
    { to: 'acknowledged', key: 'detail.acknowledge' },
    { to: 'in_progress', key: 'detail.inProgress' },
    { to: 'resolved', key: 'detail.resolve' },
    { to: 'false_positive', key: 'detail.falsePositive' },
  ],
  acknowledged: [
    { to: 'in_progress', key: 'detail.inProgress' },
    { to: 'resolved', key: 'detail.resolve' },
    { to: 'false_positive', key: 'detail.falsePositive' },
  ],
  in_progress: [
    { to: 'resolved', key: 'detail.resolve' },
    { to: 'false_positive', key: 'detail.falsePositive' },
  ],
  resolved: [{ to: 'acknowledged', key: 'detail.reopen' }],
  false_positive: [{ to: 'acknowledged', key: 'detail.reopen' }],
};

/** A change to send: given the version to send it at. */
type Change = (version: string) => Promise<unknown>;

export function showDetail(context: ConsoleContext, id: string): ConsoleView {
  const { client, view } = context;
  const path = `/api/incidents/${encodeURIComponent(id)}`;
  let detail: IncidentDetail | undefined;
  let closed = false;
  let busy = false;
  /** What the message area shows: a note of success, an error, a conflict, or a change made elsewhere. */
  let banner: HTMLElement | undefined;

  const load = async (after?: HTMLElement) => {
    try {
      detail = await client.get<IncidentDetail>(path);
      banner = after;
    } catch (failure) {
      if (failure instanceof ApiRequestError && failure.status === 404) {
        if (!closed) replace(view, back(), h('p', { class: 'form-error' }, t('detail.notFound', { id })));
        return;
      }
      banner = errorBanner(failure);
    }
    if (!closed) draw();
  };

  /** Sends a change at the version shown; on 409 offers a retry at the current version. */
  const perform = async (change: Change, version = detail?.version) => {
    if (busy || !version) return;
    busy = true;
    setBusy(true);
    try {
      await change(version);
      busy = false;
      await load(h('p', { class: 'saved', role: 'status', 'data-testid': 'saved' }, t('detail.saved')));
    } catch (failure) {
      busy = false;
      if (failure instanceof ApiRequestError && failure.status === 409 && isVersioned(failure.details)) {
        showConflict(failure.details, change);
      } else {
        banner = errorBanner(failure);
        draw();
      }
    }
  };

  const showConflict = (current: VersionedIncident, change: Change) => {
    if (!detail) return;
    // Show the incident as it now is; the analyst's change waits on their decision.
    detail = { ...detail, incident: current.incident, version: current.version };
    banner = h(
      'div',
      { class: 'conflict', role: 'alert', 'data-testid': 'conflict' },
      h('h3', {}, t('conflict.title')),
      h(
        'p',
        {},
        t('conflict.body', {
          status: label('status', current.incident.status),
          assignee: current.incident.assignee ?? t('detail.unassigned'),
          version: current.version,
        }),
      ),
      h(
        'div',
        { class: 'buttons' },
        h(
          'button',
          { type: 'button', class: 'primary', onclick: () => void perform(change, current.version) },
          t('conflict.retry'),
        ),
        h('button', { type: 'button', onclick: () => void load() }, t('conflict.discard')),
      ),
    );
    draw();
  };

  const setBusy = (value: boolean) => {
    for (const control of view.querySelectorAll<HTMLButtonElement>('.triage button'))
      control.disabled = value;
  };

  const draw = () => {
    if (!detail) {
      replace(view, back(), h('p', { class: 'muted' }, t('detail.loading')));
      return;
    }
    const { incident, version } = detail;
    document.title = `${incident.title} · siem-lite`;
    replace(
      view,
      back(),
      h(
        'div',
        { class: 'incident-head' },
        h('h2', { 'data-testid': 'incident-title' }, incident.title),
        severityBadge(incident.severity),
        statusBadge(incident.status),
        h('span', { class: 'muted', 'data-testid': 'version' }, t('detail.version', { version })),
      ),
      h('div', { class: 'banner', 'aria-live': 'polite' }, banner),
      h('div', { class: 'columns' }, summary(context, incident), triage(incident)),
      evidence(detail.evidence),
      chain(detail.detections),
      related(context, detail),
      timeline(incident),
      notes(incident),
    );
  };

  const triage = (incident: Incident) => {
    const reason = h('input', { id: 'reason', name: 'reason', maxlength: 2000 });
    const withFilter = h('input', { type: 'checkbox', id: 'fp-filter' });
    const assignee = h('input', {
      id: 'assignee',
      name: 'assignee',
      maxlength: 200,
      value: incident.assignee ?? '',
    });
    const note = h('textarea', { id: 'note', name: 'note', rows: 3, maxlength: 10_000 });
    const reasonValue = () => reason.value.trim() || undefined;
    const setStatus = (to: IncidentStatus): Change =>
      to === 'false_positive' && withFilter.checked
        ? // The false-positive route also stores the exception (a Sigma filter) for this entity and agency.
          (version) =>
            client.post(`${path}/false-positive`, {
              version,
              filter: true,
              ...optional('reason', reasonValue()),
            })
        : (version) => client.patch(path, { version, status: to, ...optional('reason', reasonValue()) });
    return h(
      'section',
      { class: 'triage panel', 'aria-labelledby': 'triage-title' },
      h('h3', { id: 'triage-title' }, t('detail.actions')),
      h(
        'div',
        { class: 'buttons' },
        NEXT[incident.status].map(({ to, key }) =>
          h(
            'button',
            {
              type: 'button',
              class: 'primary',
              'data-action': to,
              onclick: () => void perform(setStatus(to)),
            },
            t(key),
          ),
        ),
      ),
      h('label', { for: 'reason' }, t('detail.reason')),
      reason,
      NEXT[incident.status].some(({ to }) => to === 'false_positive')
        ? h('label', { class: 'check' }, withFilter, t('detail.filter'))
        : null,
      h(
        'form',
        {
          class: 'inline',
          onsubmit: (event: Event) => {
            event.preventDefault();
            const name = assignee.value.trim();
            void perform((version) => client.patch(path, { version, assignee: name || null }));
          },
        },
        h('label', { for: 'assignee' }, t('detail.assignee')),
        assignee,
        h('button', { type: 'submit', 'data-action': 'assign' }, t('detail.assign')),
        h(
          'button',
          {
            type: 'button',
            'data-action': 'assign-me',
            // The API records the key's name as the actor; the same name makes "assigned to me" find it.
            disabled: incident.assignee === context.me.name,
            onclick: () =>
              void perform((version) => client.patch(path, { version, assignee: context.me.name })),
          },
          t('detail.assignMe'),
        ),
        h('p', { class: 'help' }, t('detail.assigneeHelp')),
      ),
      h(
        'form',
        {
          onsubmit: (event: Event) => {
            event.preventDefault();
            const text = note.value.trim();
            // Notes append: they need no version, so they never conflict.
            if (text) void perform(() => client.post(`${path}/notes`, { text }));
          },
        },
        h('label', { for: 'note' }, t('detail.note')),
        note,
        h('button', { type: 'submit', 'data-action': 'note' }, t('detail.addNote')),
      ),
    );
  };

  draw();
  void load();
  return {
    onChange(change: IncidentChange) {
      if (!detail || change.incident.id !== id || busy) return;
      // Our own change was re-read already (same version, or same updatedAt when the notice has no version);
      // anything newer was made elsewhere.
      if (
        change.version !== undefined
          ? change.version === detail.version
          : change.incident.updatedAt === detail.incident.updatedAt
      )
        return;
      banner = h(
        'div',
        { class: 'changed', role: 'status', 'data-testid': 'changed-elsewhere' },
        t('detail.changedElsewhere', { actor: change.actor }),
        ' ',
        h('button', { type: 'button', onclick: () => void load() }, t('detail.reload')),
      );
      draw();
    },
    refresh: () => void load(banner),
    redraw: draw,
    close() {
      closed = true;
    },
  };
}

function back(): HTMLElement {
  return h('a', { href: '#/', class: 'back' }, t('detail.back'));
}

function optional<K extends string>(name: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [name]: value } as Record<K, string>);
}

function isVersioned(details: unknown): details is VersionedIncident {
  return typeof details === 'object' && details !== null && 'incident' in details && 'version' in details;
}

function errorBanner(failure: unknown): HTMLElement {
  const message = failure instanceof Error ? failure.message : String(failure);
  const text =
    failure instanceof ApiRequestError && failure.code === 'invalid_transition'
      ? t('error.transition', { message })
      : failure instanceof ApiRequestError && failure.code === 'no_filter_scope'
        ? t('error.noFilterScope', { message })
        : t('error.generic', { message });
  return h('p', { class: 'form-error', role: 'alert', 'data-testid': 'error' }, text);
}

function entity(groupBy: Record<string, string>): string {
  const pairs = Object.entries(groupBy);
  return pairs.length === 0 ? '—' : pairs.map(([name, value]) => `${name}: ${value}`).join(', ');
}

function summary(context: ConsoleContext, incident: Incident): HTMLElement {
  const rows: [MessageKey, Child | Child[]][] = [
    ['list.agency', agencyName(context, incident.agency)],
    ['col.assignee', incident.assignee ?? t('detail.unassigned')],
    [
      'detail.rule',
      // Only web links: a rule's `link` is text from a rule file, and must not become a script URL.
      incident.ruleLink && /^https?:\/\//i.test(incident.ruleLink)
        ? h(
            'a',
            { href: incident.ruleLink, rel: 'noreferrer noopener', target: '_blank' },
            incident.ruleTitle,
          )
        : incident.ruleTitle,
    ],
    ['detail.entity', entity(incident.groupBy)],
    ['detail.firstSeen', formatTime(incident.firstSeen)],
    ['detail.lastSeen', formatTime(incident.lastSeen)],
    ['detail.created', formatTime(incident.createdAt)],
    ['detail.detections', formatNumber(incident.detectionCount)],
    ['detail.tactics', incident.tactics.join(', ') || '—'],
    ['detail.techniques', incident.techniques.join(', ') || '—'],
    ['detail.tags', incident.tags.join(', ') || '—'],
    ['detail.tta', formatDuration(incident.timeToAcknowledgeMs)],
    ['detail.ttr', formatDuration(incident.timeToResolveMs)],
  ];
  return h(
    'section',
    { class: 'summary panel', 'aria-labelledby': 'summary-title' },
    h('h3', { id: 'summary-title' }, t('detail.summary')),
    h(
      'dl',
      { 'data-testid': 'summary' },
      rows.map(([key, value]) => h('div', {}, h('dt', {}, t(key)), h('dd', {}, value))),
    ),
  );
}

function evidence(events: SecurityEvent[]): HTMLElement {
  return section(
    'evidence',
    t('detail.evidence', { n: events.length }),
    events.length === 0
      ? h('p', { class: 'muted' }, t('detail.none'))
      : table(
          ['col.time', 'col.host', 'col.source', 'col.user', 'col.action', 'col.message'],
          events.map((event) => {
            const doc = event as unknown as Record<string, unknown>;
            const action = [field(doc, 'event.action'), field(doc, 'event.outcome')]
              .filter(Boolean)
              .join(' / ');
            return h(
              'tr',
              { 'data-testid': 'evidence-row' },
              h('td', {}, formatTime(event['@timestamp'])),
              h('td', {}, field(doc, 'host.name') ?? field(doc, 'host.hostname') ?? '—'),
              h('td', {}, field(doc, 'source.ip') ?? '—'),
              h('td', {}, field(doc, 'user.name') ?? '—'),
              h('td', {}, action || '—'),
              h(
                'td',
                {},
                h(
                  'details',
                  {},
                  h('summary', {}, event.message ?? event.event.original),
                  h('p', { class: 'muted' }, t('detail.original')),
                  h('pre', {}, event.event.original),
                ),
              ),
            );
          }),
        ),
  );
}

function chain(detections: Detection[]): HTMLElement {
  return section(
    'chain',
    t('detail.chain', { n: detections.length }),
    h('p', { class: 'help' }, t('detail.chainHelp')),
    detections.length === 0
      ? h('p', { class: 'muted' }, t('detail.none'))
      : table(
          ['col.time', 'col.rule', 'col.level', 'col.entity', 'col.events'],
          detections.map((detection) =>
            h(
              'tr',
              { 'data-testid': 'detection-row' },
              h('td', {}, formatTime(detection.timestamp)),
              h('td', {}, detection.ruleTitle),
              h('td', {}, label('severity', detection.level)),
              h('td', {}, entity(detection.groupBy)),
              h('td', { class: 'number' }, formatNumber(detection.eventIds.length)),
            ),
          ),
        ),
  );
}

function related(context: ConsoleContext, detail: IncidentDetail): HTMLElement {
  return section(
    'related',
    t('detail.related', { n: detail.related.length }),
    detail.related.length === 0
      ? h('p', { class: 'muted' }, t('detail.none'))
      : h(
          'ul',
          {},
          detail.related.map((other) =>
            h(
              'li',
              {},
              severityBadge(other.severity),
              ' ',
              h('a', { href: `#/incidents/${encodeURIComponent(other.id)}` }, other.title),
              ` — ${label('status', other.status)}, ${agencyName(context, other.agency)}, ${formatTime(other.lastSeen)}`,
            ),
          ),
        ),
  );
}

function timeline(incident: Incident): HTMLElement {
  return section(
    'timeline',
    t('detail.timeline'),
    h(
      'ol',
      { class: 'timeline' },
      [...incident.timeline]
        .reverse()
        .map((entry) =>
          h(
            'li',
            { 'data-action': entry.action },
            h('time', { datetime: entry.at }, formatTime(entry.at)),
            ' ',
            h('strong', {}, entry.actor),
            ' ',
            describe(entry.action, entry.detail ?? {}),
            typeof entry.detail?.reason === 'string' ? ` — ${entry.detail.reason}` : null,
          ),
        ),
    ),
  );
}

function describe(action: string, detail: Record<string, unknown>): string {
  const text = (value: unknown) => (value === null || value === undefined ? '—' : String(value));
  const status = (value: unknown) => label('status', text(value));
  switch (action) {
    case 'status_changed':
    case 'reopened':
      return t(`timeline.${action}`, { from: status(detail.from), to: status(detail.to) });
    case 'assigned':
      return detail.to === null ? t('timeline.unassigned') : t('timeline.assigned', { to: text(detail.to) });
    case 'severity_changed':
      return t('timeline.severity_changed', {
        from: label('severity', text(detail.from)),
        to: label('severity', text(detail.to)),
      });
    case 'merged':
      return t('timeline.merged', { from: text(detail.from) });
    case 'merged_into':
      return t('timeline.merged_into', { into: text(detail.into) });
    default:
      return label('timeline', action);
  }
}

function notes(incident: Incident): HTMLElement {
  const list = incident.notes ?? [];
  return section(
    'notes',
    t('detail.notes', { n: list.length }),
    list.length === 0
      ? h('p', { class: 'muted' }, t('detail.none'))
      : h(
          'ul',
          { class: 'notes' },
          list.map((note) =>
            h(
              'li',
              {},
              h('div', { class: 'muted' }, `${formatTime(note.at)} · ${note.author}`),
              h('p', {}, note.text),
            ),
          ),
        ),
  );
}

function section(id: string, title: string, ...content: Child[]): HTMLElement {
  return h(
    'section',
    { class: 'panel', id, 'data-testid': id, 'aria-labelledby': `${id}-title` },
    h('h3', { id: `${id}-title` }, title),
    ...content,
  );
}

function table(columns: MessageKey[], rows: HTMLElement[]): HTMLElement {
  return h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          columns.map((key) => h('th', { scope: 'col' }, t(key))),
        ),
      ),
      h('tbody', {}, rows),
    ),
  );
}
