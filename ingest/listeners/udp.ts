import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { ListenerConfig } from '../../core/config.js';
import type { Logger } from '../../core/logger.js';
import { formatPeer, type MessageSink, type RunningListener } from './listener.js';

/** Kernel receive buffer asked for: bursts wait here rather than being dropped (capped by net.core.rmem_max). */
const RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024;

/**
 * Syslog over UDP (RFC 5426), IPv4 or IPv6 by the configured host (`::` is dual-stack). One datagram is one
 * message; a trailing LF, CRLF or NUL is removed. UDP cannot make a sender wait, so when the queue is
 * saturated a datagram is dropped and counted.
 */
export async function startUdpListener(options: {
  listener: ListenerConfig;
  maxMessageBytes: number;
  sink: MessageSink;
  logger: Logger;
}): Promise<RunningListener> {
  const { listener, maxMessageBytes, sink, logger } = options;
  const socket: Socket = createSocket({
    type: isIPv6(listener.host) ? 'udp6' : 'udp4',
    recvBufferSize: RECEIVE_BUFFER_BYTES,
  });
  const truncatedFlags = ['truncated'];

  socket.on('message', (datagram, remote) => {
    const peer = formatPeer(remote.address, remote.port);
    if (sink.saturated()) {
      sink.reject(listener, peer, 'backpressure');
      return;
    }
    let end = datagram.length;
    while (end > 0 && (datagram[end - 1] === 10 || datagram[end - 1] === 0)) end--;
    if (end > 0 && datagram[end - 1] === 13) end--;
    if (end === 0) return;
    if (end > maxMessageBytes) {
      sink.accept(datagram.toString('utf8', 0, maxMessageBytes), peer, listener, truncatedFlags);
    } else {
      sink.accept(datagram.toString('utf8', 0, end), peer, listener);
    }
  });
  socket.on('error', (error) => logger.error({ err: error, listener: listener.id }, 'UDP listener error'));

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(listener.port, listener.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const bound = socket.address();
  logger.info({ listener: listener.id, address: bound.address, port: bound.port }, 'syslog UDP listening');
  return {
    id: listener.id,
    transport: 'udp',
    address: bound.address,
    port: bound.port,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
