import { auditdParser } from './auditd.js';
import { cefParser } from './cef.js';
import { ciscoAsaParser } from './cisco-asa.js';
import { fortigateParser } from './fortigate.js';
import { iptablesParser } from './iptables.js';
import { jsonParser } from './json.js';
import { leefParser } from './leef.js';
import { paloAltoParser } from './paloalto.js';
import { pamParser } from './pam.js';
import { pfsenseParser } from './pfsense.js';
import type { SourceParser } from './source-parser.js';
import { sshdParser } from './sshd.js';
import { suParser } from './su.js';
import { sudoParser } from './sudo.js';
import { userManagementParser } from './user-management.js';
import { webAccessParser } from './web-access.js';

/**
 * The source parsers and how one is chosen for a message: the listener's forced parser first, then the
 * program name (syslog APP-NAME or tag), then content sniffing for devices that send no program name.
 */
export class ParserRegistry {
  private readonly byId = new Map<string, SourceParser>();
  private readonly byProgram = new Map<string, SourceParser>();
  private readonly sniffers: SourceParser[] = [];

  constructor(parsers: readonly SourceParser[]) {
    for (const parser of parsers) {
      if (this.byId.has(parser.id)) throw new Error(`duplicate source parser id ${parser.id}`);
      this.byId.set(parser.id, parser);
      for (const program of parser.programs ?? []) this.byProgram.set(program, parser);
      if (parser.sniff) this.sniffers.push(parser);
    }
  }

  get ids(): string[] {
    return [...this.byId.keys()];
  }

  get(id: string): SourceParser | undefined {
    return this.byId.get(id);
  }

  /** The parser for a message, or `undefined` for a generic event. */
  choose(program: string | undefined, message: string): SourceParser | undefined {
    if (program !== undefined) {
      const parser = this.byProgram.get(program) ?? this.byProgram.get(programKey(program));
      if (parser) return parser;
    }
    for (const parser of this.sniffers) if (parser.sniff!(message)) return parser;
    return undefined;
  }
}

/**
 * Every source parser shipped with siem-lite. Order matters only for content sniffing: the cheapest and
 * most specific tests (a fixed prefix) come first, regex sniffers last.
 */
export const BUILTIN_PARSERS: readonly SourceParser[] = [
  jsonParser,
  cefParser,
  leefParser,
  ciscoAsaParser,
  fortigateParser,
  auditdParser,
  pamParser,
  sshdParser,
  sudoParser,
  suParser,
  userManagementParser,
  iptablesParser,
  pfsenseParser,
  paloAltoParser,
  webAccessParser,
];

export function defaultParserRegistry(): ParserRegistry {
  return new ParserRegistry(BUILTIN_PARSERS);
}

/** `CRON` → `cron`, `sshd(pam_unix)` → `sshd` (old syslogs put the PAM module in the program name). */
function programKey(program: string): string {
  const paren = program.indexOf('(');
  return (paren > 0 ? program.slice(0, paren) : program).toLowerCase();
}
