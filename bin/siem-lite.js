#!/usr/bin/env node
// The installed `siem-lite` command: runs the compiled CLI (npm install / npm start build it into dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/bin/main.js', import.meta.url));
if (!existsSync(main)) {
  console.error('siem-lite: not built yet; run "npm run build" (npm install does it) and try again');
  process.exit(1);
}
await import(main);
