import { createServer, type Server, type Socket } from 'node:net';
import type { ListenerConfig } from '../../core/config.js';
import { parseDuration } from '../../core/duration.js';
import type { Logger } from '../../core/logger.js';
import { SyslogFramer } from '../framing/syslog-framer.js';
import { formatPeer, type MessageSink, type RunningListener } from './listener.js';

export interface StreamListenerOptions {
  listener: ListenerConfig;
  maxMessageBytes: number;
  sink: MessageSink;
  logger: Logger;
}

export const DEFAULT_MAX_CONNECTIONS = 1000;
export const DEFAULT_IDLE_TIMEOUT = '5m';
const TRUNCATED = ['truncated'];

/**
 * Serves one syslog stream connection (TCP or TLS): RFC 6587 framing per frame, backpressure by pausing
 * the socket while the queue is saturated, garbage closes the connection with a reason and a count, and a
 * connection silent for the idle timeout is closed so that it holds no resources.
 */
export function serveSyslogStream(socket: Socket, options: StreamListenerOptions, agency?: string): void {
  const { listener, maxMessageBytes, sink, logger } = options;
  const peer = formatPeer(socket.remoteAddress, socket.remotePort);
  const framer = new SyslogFramer(maxMessageBytes, (text, truncated) =>
    sink.accept(text, peer, listener, truncated ? TRUNCATED : undefined, agency),
  );
  let paused = false;
  const resume = () => {
    paused = false;
    if (!socket.destroyed) socket.resume();
  };
  socket.setTimeout(parseDuration(listener.idle_timeout ?? DEFAULT_IDLE_TIMEOUT)!);
  socket.on('timeout', () => {
    // A paused connection is silent because we asked it to wait: only real silence counts.
    if (paused) return;
    logger.debug({ listener: listener.id, peer }, 'closing idle syslog connection');
    sink.closed(listener, 'idle_timeout');
    framer.end();
    socket.destroy();
  });
  socket.on('data', (chunk: Buffer) => {
    const garbage = framer.push(chunk);
    if (garbage) {
      logger.warn({ listener: listener.id, peer, reason: garbage }, 'closing syslog connection: garbage');
      sink.reject(listener, peer, 'garbage');
      sink.closed(listener, 'garbage');
      socket.destroy();
      return;
    }
    if (!paused && sink.saturated()) {
      paused = true;
      socket.pause();
      sink.whenClear(resume);
    }
  });
  socket.on('end', () => framer.end());
  socket.on('error', (error) =>
    logger.debug({ err: error, listener: listener.id, peer }, 'syslog connection error'),
  );
}

/** Syslog over TCP (RFC 6587), IPv4 or IPv6 by the configured host. */
export async function startTcpListener(options: StreamListenerOptions): Promise<RunningListener> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveSyslogStream(socket, options);
  });
  return listen(server, sockets, options, 'tcp');
}

/**
 * Binds `server` with the connection limit and returns the running listener; shared by TCP and TLS.
 * Connections beyond the limit are closed by Node at accept and counted as rejected.
 */
export async function listen(
  server: Server,
  sockets: Set<Socket>,
  options: StreamListenerOptions,
  transport: 'tcp' | 'tls',
): Promise<RunningListener> {
  const { listener, logger, sink } = options;
  server.maxConnections = listener.max_connections ?? DEFAULT_MAX_CONNECTIONS;
  server.on('drop', (data) => {
    logger.warn(
      { listener: listener.id, peer: data?.remoteAddress },
      'connection limit reached: connection refused',
    );
    sink.reject(listener, formatPeer(data?.remoteAddress, data?.remotePort), 'max_connections');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listener.port, listener.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => logger.error({ err: error, listener: listener.id }, 'syslog listener error'));
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error(`listener ${listener.id}: no address`);
  logger.info(
    { listener: listener.id, address: bound.address, port: bound.port },
    `syslog ${transport.toUpperCase()} listening`,
  );
  return {
    id: listener.id,
    transport,
    address: bound.address,
    port: bound.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Half-close politely: what the peer already sent is still read and framed before the socket ends.
        for (const socket of sockets) {
          socket.end();
          socket.resume();
          setTimeout(() => socket.destroy(), 1000).unref();
        }
      }),
  };
}
