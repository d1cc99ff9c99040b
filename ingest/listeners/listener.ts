import type { ListenerConfig } from '../../core/config.js';
import type { Transport } from '../../core/model.js';

/** Where listeners hand each framed message; implemented by the ingest service. */
export interface MessageSink {
  /** Takes one message. `flags` e.g. `['truncated']`; `agency` when the transport identified it (TLS). */
  accept(text: string, peer: string, listener: ListenerConfig, flags?: string[], agency?: string): void;
  /** Rejects one message before it became a record (counted, with a reason). */
  reject(listener: ListenerConfig, peer: string, reason: string, count?: number): void;
  /** A stream connection was closed by us (`idle_timeout`, `garbage`, `tls_handshake`): counted per listener. */
  closed(listener: ListenerConfig, reason: string): void;
  /** True when the queue wants producers to stop: TCP pauses, UDP drops (counted). */
  saturated(): boolean;
  /** Calls `resume` once the queue has room again. */
  whenClear(resume: () => void): void;
}

export interface RunningListener {
  id: string;
  transport: Transport;
  /** The bound address and port (the real port when the config said 0). */
  address: string;
  port: number;
  close(): Promise<void>;
}

/** `ip:port`, `[ipv6]:port`; IPv4-mapped IPv6 (dual-stack sockets) is written as plain IPv4. */
export function formatPeer(address: string | undefined, port: number | undefined): string {
  if (!address) return '';
  const ip = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  if (port === undefined) return ip;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
