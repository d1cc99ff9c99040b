import { createServer, type Server, type Socket } from 'node:net';
import type { ListenerConfig } from '../../core/config.js';
import type { Logger } from '../../core/logger.js';
import { SyslogFramer } from '../framing/syslog-framer.js';
import { formatPeer, type MessageSink, type RunningListener } from './listener.js';

export interface StreamListenerOptions {
  listener: ListenerConfig;
  maxMessageBytes: number;
  sink: MessageSink;
  logger: Logger;
}

const TRUNCATED = ['truncated'];

/**
 * Serves one syslog stream connection (TCP or TLS): RFC 6587 framing per frame, backpressure by pausing
 * the socket while the queue is saturated, garbage closes the connection with a reason and a count.
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
  socket.on('data', (chunk: Buffer) => {
    const garbage = framer.push(chunk);
    if (garbage) {
      logger.warn({ listener: listener.id, peer, reason: garbage }, 'closing syslog connection: garbage');
      sink.reject(listener, peer, 'garbage');
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
  const { logger } = options;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveSyslogStream(socket, options);
  });
  return listen(server, sockets, options.listener, 'tcp', logger);
}

/** Binds `server` and returns the running listener; shared by the TCP and TLS listeners. */
export async function listen(
  server: Server,
  sockets: Set<Socket>,
  listener: ListenerConfig,
  transport: 'tcp' | 'tls',
  logger: Logger,
): Promise<RunningListener> {
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
