/**
 * An HTTP proxy in front of the real Elasticsearch node for fault tests (like toxiproxy): it forwards
 * requests unchanged, and on command answers 503, drops connections as if the node had stopped, or
 * forwards a request and then drops the connection before the answer (the node applied the write, the
 * client never heard). The node behind it is real; only the network between is made to fail.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FaultMode = 'pass' | 'unavailable' | 'down' | 'lose-response';

export class FaultProxy {
  readonly #upstream: URL;
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  #port = 0;
  mode: FaultMode = 'pass';
  /** Called for every `_bulk` request before it is handled; may change `mode`. */
  onBulk: ((count: number) => void) | undefined;
  bulkRequests = 0;
  faultsInjected = 0;

  constructor(upstream: string) {
    this.#upstream = new URL(upstream);
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => this.#handle(req, res));
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(this.#port, '127.0.0.1', resolve));
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.url?.includes('_bulk')) {
      this.bulkRequests++;
      this.onBulk?.(this.bulkRequests);
    }
    const mode = this.mode;
    if (mode === 'down') {
      this.faultsInjected++;
      req.socket.destroy();
      return;
    }
    if (mode === 'unavailable') {
      this.faultsInjected++;
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"error":{"type":"unavailable","reason":"fault proxy"},"status":503}');
      return;
    }
    const upstream = httpRequest(
      {
        host: this.#upstream.hostname,
        port: this.#upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        if (mode === 'lose-response') {
          this.faultsInjected++;
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  }
}
