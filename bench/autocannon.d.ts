// autocannon ships no types (and @types/autocannon lags its v8 API); the benchmarks use this much of it.
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  interface Request {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
  }
  interface Options {
    url: string;
    connections?: number;
    overallRate?: number;
    duration?: number;
    headers?: Record<string, string>;
    requests?: Request[];
  }
  type Instance = EventEmitter & PromiseLike<unknown>;
  export default function autocannon(options: Options): Instance;
}
