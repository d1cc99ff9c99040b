/**
 * An error in one rule, located by its path inside the YAML document (e.g. `['detection', 'sel', 'Image|re']`).
 * The loader turns the path into a line and column, so a parser deep inside never needs the YAML nodes.
 */
export type YamlPath = (string | number)[];

export class RuleError extends Error {
  constructor(
    message: string,
    readonly path: YamlPath = [],
  ) {
    super(message);
    this.name = 'RuleError';
  }
}
