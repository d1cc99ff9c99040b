import { readFileSync } from 'node:fs';
import { Gauge, type Registry } from 'prom-client';

/**
 * Datagrams the kernel dropped because a UDP socket's receive buffer was full happen before the process
 * sees them. Linux counts them per socket in the last column of `/proc/net/udp` and `/proc/net/udp6`
 * (`drops`), keyed by local port; this gauge reports them per listener at scrape time.
 */
const watched = new Map<Registry, Map<string, number>>();

export function watchUdpKernelDrops(registry: Registry, listener: string, port: number): () => void {
  let ports = watched.get(registry);
  if (!ports) {
    ports = new Map();
    watched.set(registry, ports);
    const byListener = ports;
    new Gauge({
      name: 'siem_ingest_udp_kernel_drops',
      help: 'Datagrams dropped by the kernel (receive buffer full) on a UDP listener socket, from /proc/net/udp',
      labelNames: ['listener'],
      registers: [registry],
      collect() {
        this.reset();
        const drops = readUdpDrops();
        for (const [id, listenerPort] of byListener) this.set({ listener: id }, drops.get(listenerPort) ?? 0);
      },
    });
  }
  ports.set(listener, port);
  return () => ports.delete(listener);
}

/** Sum of `drops` per local port over /proc/net/udp and /proc/net/udp6 (empty where there is no procfs). */
export function readUdpDrops(): Map<number, number> {
  const drops = new Map<number, number>();
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const lines = text.split('\n');
    for (let i = 1; i < lines.length; i++) {
      const fields = lines[i]!.trim().split(/\s+/);
      if (fields.length < 13) continue;
      const local = fields[1]!;
      const port = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
      const count = Number(fields[fields.length - 1]);
      if (Number.isFinite(port) && Number.isFinite(count)) drops.set(port, (drops.get(port) ?? 0) + count);
    }
  }
  return drops;
}
