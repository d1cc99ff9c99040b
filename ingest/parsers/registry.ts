import type { SourceParser } from './source-parser.js';
import { sshdParser } from './sshd.js';

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
      const parser = this.byProgram.get(program) ?? this.byProgram.get(program.toLowerCase());
      if (parser) return parser;
    }
    for (const parser of this.sniffers) if (parser.sniff!(message)) return parser;
    return undefined;
  }
}

/** Every source parser shipped with siem-lite. */
export const BUILTIN_PARSERS: readonly SourceParser[] = [sshdParser];

export function defaultParserRegistry(): ParserRegistry {
  return new ParserRegistry(BUILTIN_PARSERS);
}
