/** What the console's views share: the signed-in client and key, the agency names, and where to draw. */
import type { ApiClient } from '../shared/api.js';
import { language } from '../shared/i18n.js';
import type { Agency, IncidentChange, Me } from '../shared/types.js';

export interface ConsoleContext {
  client: ApiClient;
  /** The signed-in key (GET /api/me): its name is the actor and assignee the API records for it. */
  me: Me;
  /** Where the current view draws (below the header). */
  view: HTMLElement;
  /** Agencies the key may see, for the filter and for display names (empty until loaded). */
  agencies: Agency[];
}

/** A view the router shows; `onChange` receives the live stream's incident changes while it is shown. */
export interface ConsoleView {
  onChange(change: IncidentChange): void;
  /** The stream came back after a gap: changes may have been missed, so re-read. */
  refresh(): void;
  /** The language changed: draw again from what is loaded. */
  redraw(): void;
  close(): void;
}

export function agencyName(context: ConsoleContext, id: string): string {
  const agency = context.agencies.find((candidate) => candidate.id === id);
  return agency ? agency.name[language()] || id : id;
}
