import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { createServer, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { AgencyDirectory } from '../../core/agencies.js';
import type { RunningListener } from './listener.js';
import { formatPeer } from './listener.js';
import { listen, type StreamListenerOptions, serveSyslogStream } from './tcp.js';

const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Syslog over TLS (RFC 5425): RFC 6587 framing inside TLS, certificate and key from the listener's `tls`
 * config. With `tls.ca`, clients are asked for a certificate; a verified certificate whose subject is listed
 * in an agency's `tls_subjects` attributes the connection to that agency. `require_client_cert` refuses
 * clients without a valid one (counted as `tls_handshake` rejects).
 */
export async function startTlsListener(
  options: StreamListenerOptions & { agencies: AgencyDirectory },
): Promise<RunningListener> {
  const { listener, logger, sink } = options;
  const tls = listener.tls;
  if (!tls) throw new Error(`listener ${listener.id}: transport tls needs tls.cert and tls.key`);
  const read = (what: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(
        `listener ${listener.id}: cannot read tls.${what} ${path} (${(error as Error).message})`,
      );
    }
  };
  const subjects = subjectIndex(options.agencies);
  const sockets = new Set<Socket>();
  const server = createServer(
    {
      cert: read('cert', tls.cert),
      key: read('key', tls.key),
      ...(tls.ca ? { ca: read('ca', tls.ca), requestCert: true } : {}),
      rejectUnauthorized: tls.ca !== undefined && tls.require_client_cert === true,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    },
    (socket: TLSSocket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      const agency = socket.authorized
        ? agencyOfCertificate(socket.getPeerCertificate(), subjects)
        : undefined;
      serveSyslogStream(socket, options, agency);
    },
  );
  server.on('tlsClientError', (error, socket) => {
    logger.warn({ listener: listener.id, err: error, peer: socket.remoteAddress }, 'TLS handshake failed');
    sink.reject(listener, formatPeer(socket.remoteAddress, socket.remotePort), 'tls_handshake');
  });
  return listen(server, sockets, options, 'tls');
}

/** `tls_subjects` of every agency, keyed as written (`CN=...` or a full DN), for certificate lookups. */
function subjectIndex(agencies: AgencyDirectory): Map<string, string> {
  const index = new Map<string, string>();
  for (const agency of agencies.agencies) {
    for (const subject of agency.tls_subjects ?? []) index.set(normaliseDn(subject), agency.id);
  }
  return index;
}

/** The agency named by a certificate: its full subject DN first, then its CN alone. */
export function agencyOfCertificate(
  certificate: PeerCertificate,
  subjects: Map<string, string>,
): string | undefined {
  const subject = certificate?.subject;
  if (!subject) return undefined;
  const dn = Object.entries(subject)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : value}`)
    .join(',');
  return (
    subjects.get(normaliseDn(dn)) ?? (subject.CN ? subjects.get(normaliseDn(`CN=${subject.CN}`)) : undefined)
  );
}

/** DN comparison ignores spaces around separators and the case of attribute names. */
function normaliseDn(dn: string): string {
  return dn
    .split(',')
    .map((part) => {
      const eq = part.indexOf('=');
      return eq < 0 ? part.trim() : `${part.slice(0, eq).trim().toUpperCase()}=${part.slice(eq + 1).trim()}`;
    })
    .join(',');
}
