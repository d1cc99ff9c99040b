/**
 * The incident list: filters (status, severity, agency, words of the title or an id, assigned to the
 * signed-in key), most recently seen
 * first, paged with the API's cursor (`next` → `after`; the cursors of the pages already seen are kept so
 * "previous" works). Live changes re-read the page shown, at most every half second.
 */
import { ApiRequestError } from '../shared/api.js';
import { h, replace } from '../shared/element.js';
import { formatNumber, formatTime } from '../shared/format.js';
import { label, t } from '../shared/i18n.js';
import type { IncidentChange, IncidentPage, IncidentStatus, Severity } from '../shared/types.js';
import { agencyName, type ConsoleContext, type ConsoleView } from './context.js';

const STATUSES: IncidentStatus[] = ['new', 'acknowledged', 'in_progress', 'resolved', 'false_positive'];
const SEVERITIES: Severity[] = ['critical', 'high', 'medium', 'low'];
const PAGE_SIZE = 25;
const OPEN: IncidentStatus[] = ['new', 'acknowledged', 'in_progress'];

interface Filters {
  status: IncidentStatus[];
  severity: Severity[];
  agency: string;
  q: string;
  /** Only incidents assigned to the signed-in key's name (the API's `assignee` filter, an exact match). */
  mine: boolean;
}

/** Kept while the tab lives, so coming back from an incident shows the same list. */
const remembered: { filters: Filters; cursors: (string | undefined)[] } = {
  filters: { status: [...OPEN], severity: [], agency: '', q: '', mine: false },
  cursors: [undefined],
};

export function showList(context: ConsoleContext): ConsoleView {
  const { client, view } = context;
  let page: IncidentPage | undefined;
  let error: string | undefined;
  let reloadTimer: number | undefined;
  let closed = false;
  const notices = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite', 'data-testid': 'notice' });
  const results = h('div', { class: 'results' });

  const load = async () => {
    const filters = remembered.filters;
    const after = remembered.cursors[remembered.cursors.length - 1];
    try {
      page = await client.get<IncidentPage>('/api/incidents', {
        status: filters.status,
        severity: filters.severity,
        agency: filters.agency || undefined,
        q: filters.q || undefined,
        assignee: filters.mine ? context.me.name : undefined,
        limit: PAGE_SIZE,
        after,
      });
      error = undefined;
    } catch (failure) {
      error = failure instanceof ApiRequestError ? failure.message : String(failure);
    }
    if (!closed) drawResults();
  };

  const drawResults = () => {
    if (error) {
      replace(
        results,
        h('p', { class: 'form-error', role: 'alert' }, t('error.generic', { message: error })),
      );
      return;
    }
    if (!page) {
      replace(results, h('p', { class: 'muted' }, t('list.loading')));
      return;
    }
    const pageNumber = remembered.cursors.length;
    replace(
      results,
      h('p', { class: 'total', 'data-testid': 'total' }, t('list.total', { n: formatNumber(page.total) })),
      page.incidents.length === 0
        ? h('p', { class: 'muted', 'data-testid': 'empty' }, t('list.empty'))
        : h(
            'table',
            { class: 'incidents' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                [
                  'col.severity',
                  'col.title',
                  'col.status',
                  'col.agency',
                  'col.assignee',
                  'col.lastSeen',
                  'col.detections',
                ].map((key) => h('th', { scope: 'col' }, t(key as Parameters<typeof t>[0]))),
              ),
            ),
            h(
              'tbody',
              {},
              page.incidents.map((incident) =>
                h(
                  'tr',
                  { 'data-testid': 'incident-row', 'data-id': incident.id, 'data-status': incident.status },
                  h('td', {}, severityBadge(incident.severity)),
                  h(
                    'td',
                    {},
                    h('a', { href: `#/incidents/${encodeURIComponent(incident.id)}` }, incident.title),
                  ),
                  h('td', {}, statusBadge(incident.status)),
                  h('td', {}, agencyName(context, incident.agency)),
                  h('td', {}, incident.assignee ?? '—'),
                  h('td', {}, formatTime(incident.lastSeen)),
                  h('td', { class: 'number' }, formatNumber(incident.detectionCount)),
                ),
              ),
            ),
          ),
      h(
        'nav',
        { class: 'pager', 'aria-label': t('list.page', { n: pageNumber }) },
        h(
          'button',
          {
            type: 'button',
            disabled: pageNumber === 1,
            onclick: () => {
              remembered.cursors.pop();
              void load();
            },
          },
          t('list.previous'),
        ),
        h('span', {}, t('list.page', { n: pageNumber })),
        h(
          'button',
          {
            type: 'button',
            disabled: !page.next,
            onclick: () => {
              remembered.cursors.push(page?.next);
              void load();
            },
          },
          t('list.next'),
        ),
      ),
    );
  };

  const draw = () => {
    const filters = remembered.filters;
    const checkbox = (group: string, value: string, checked: boolean, text: string) =>
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: group, value, checked }), text);
    const form = h(
      'form',
      {
        class: 'filters',
        'aria-label': t('list.filters'),
        onsubmit: (event: Event) => {
          event.preventDefault();
          const data = new FormData(form);
          remembered.filters = {
            status: data.getAll('status').map(String) as IncidentStatus[],
            severity: data.getAll('severity').map(String) as Severity[],
            agency: String(data.get('agency') ?? ''),
            q: String(data.get('q') ?? '').trim(),
            mine: data.get('mine') !== null,
          };
          remembered.cursors = [undefined];
          void load();
        },
      },
      h(
        'fieldset',
        {},
        h('legend', {}, t('list.status')),
        STATUSES.map((status) =>
          checkbox('status', status, filters.status.includes(status), label('status', status)),
        ),
      ),
      h(
        'fieldset',
        {},
        h('legend', {}, t('list.severity')),
        SEVERITIES.map((severity) =>
          checkbox('severity', severity, filters.severity.includes(severity), label('severity', severity)),
        ),
      ),
      h(
        'label',
        { class: 'field' },
        t('list.agency'),
        h(
          'select',
          { name: 'agency' },
          h('option', { value: '' }, t('list.allAgencies')),
          context.agencies.map((agency) =>
            h(
              'option',
              { value: agency.id, selected: agency.id === filters.agency },
              agencyName(context, agency.id),
            ),
          ),
        ),
      ),
      h(
        'label',
        { class: 'field' },
        t('list.text'),
        h('input', { type: 'search', name: 'q', value: filters.q, maxlength: 500 }),
      ),
      h(
        'label',
        { class: 'check' },
        h('input', { type: 'checkbox', name: 'mine', value: 'yes', checked: filters.mine }),
        t('list.mine'),
      ),
      h(
        'div',
        { class: 'buttons' },
        h('button', { type: 'submit', class: 'primary' }, t('list.apply')),
        h(
          'button',
          {
            type: 'button',
            onclick: () => {
              remembered.filters = { status: [], severity: [], agency: '', q: '', mine: false };
              remembered.cursors = [undefined];
              draw();
              void load();
            },
          },
          t('list.reset'),
        ),
      ),
    );
    replace(view, h('h2', {}, t('list.title')), form, notices, results);
    drawResults();
  };

  const scheduleReload = () => {
    window.clearTimeout(reloadTimer);
    reloadTimer = window.setTimeout(() => void load(), 500);
  };

  draw();
  void load();
  return {
    onChange(change: IncidentChange) {
      if (change.kind === 'opened') notices.textContent = t('list.opened', { title: change.incident.title });
      scheduleReload();
    },
    refresh: scheduleReload,
    redraw: draw,
    close() {
      closed = true;
      window.clearTimeout(reloadTimer);
    },
  };
}

export function severityBadge(severity: string): HTMLElement {
  return h(
    'span',
    { class: `pill severity severity-${severity}`, 'data-severity': severity },
    label('severity', severity),
  );
}

export function statusBadge(status: string): HTMLElement {
  return h(
    'span',
    { class: `pill status status-${status}`, 'data-testid': 'incident-status', 'data-status': status },
    label('status', status),
  );
}
