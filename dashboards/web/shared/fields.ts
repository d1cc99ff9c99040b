/** Reads an ECS field by its dotted name from an event, nested (`{source: {ip}}`) or flat (`'source.ip'`). */
export function field(document: Record<string, unknown>, name: string): string | undefined {
  if (name in document) return display(document[name]);
  let value: unknown = document;
  for (const part of name.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return display(value);
}

function display(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (Array.isArray(value)) return value.map(String).join(', ');
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
