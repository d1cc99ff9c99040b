/**
 * The API's answers as the pages read them. Incidents, events and detections are core/model.ts's types
 * (the API sends them as they are stored); the rest mirrors the route schemas in api/routes/ and the
 * documents in docs/api.md and docs/ioc-tiles.md.
 */
import type { Detection, Incident, IncidentListItem, SecurityEvent } from '../../../core/model.js';

export type {
  Detection,
  Incident,
  IncidentListItem,
  IncidentStatus,
  SecurityEvent,
  Severity,
} from '../../../core/model.js';

export type TileStatus = 'green' | 'amber' | 'red';

export interface Tile {
  agency: string;
  name: { vi: string; en: string };
  status: TileStatus;
  reasons: { code: string; vi: string; en: string }[];
  openIncidents: { critical: number; high: number; medium: number; low: number; total: number };
  new24h: number;
  trend24h: number[];
  mttaMs: number | null;
  mttrMs: number | null;
  silentSources: number;
  parseFailureRate: number;
  eventsPerSecond: number;
  topTactics: { tactic: string; count: number }[];
}

/** GET /api/ioc/tiles; a key bound to agencies gets no province tile. */
export interface TilesDocument {
  schema: string;
  version: number;
  generatedAt: string;
  province?: Tile;
  agencies: Tile[];
}

/** GET /api/incidents: list items (no timeline, notes or evidence ids: those are in IncidentDetail). */
export interface IncidentPage {
  total: number;
  incidents: IncidentListItem[];
  next?: string;
}

export interface IncidentDetail {
  incident: Incident;
  version: string;
  evidence: SecurityEvent[];
  detections: Detection[];
  related: {
    id: string;
    title: string;
    severity: string;
    status: string;
    agency: string;
    lastSeen: string;
  }[];
}

/** PATCH /api/incidents/:id, and a 409's `details`. */
export interface VersionedIncident {
  incident: Incident;
  version: string;
}

export interface Agency {
  id: string;
  name: { vi: string; en: string };
}

/** One message of /api/stream (`event: incident`). */
export interface IncidentChange {
  kind: string;
  incident: Incident;
  /** The version `incident` is stored at; absent when it changed again before the notice went out. */
  version?: string;
  actor: string;
  at: string;
}

/** The roles of api/keys.ts (ROLES). */
export type Role = 'admin' | 'analyst' | 'agency_analyst' | 'ioc' | 'ingest';

/** GET /api/me: the signed-in key. The triage routes record its `name` as actor and as "assigned to me". */
export interface Me {
  keyId: string;
  name: string;
  role: Role;
  /** The agencies it may see; null = every agency (province-wide). */
  agencies: string[] | null;
}
