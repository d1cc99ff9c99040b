/**
 * Splits one CSV record (Palo Alto, pfSense filterlog): comma-separated, a field in double quotes may hold
 * commas, and `""` inside quotes is one quote. Never throws.
 */
export function splitCsv(text: string, start = 0): string[] {
  const fields: string[] = [];
  const length = text.length;
  let i = start;
  for (;;) {
    if (text.charCodeAt(i) === 34) {
      let value = '';
      let chunk = i + 1;
      i++;
      for (;;) {
        const close = text.indexOf('"', i);
        if (close < 0) {
          value += text.slice(chunk);
          i = length;
          break;
        }
        if (text.charCodeAt(close + 1) === 34) {
          value += text.slice(chunk, close + 1);
          i = close + 2;
          chunk = i;
          continue;
        }
        value += text.slice(chunk, close);
        i = close + 1;
        break;
      }
      fields.push(value);
      const comma = text.indexOf(',', i);
      if (comma < 0) return fields;
      i = comma + 1;
    } else {
      const comma = text.indexOf(',', i);
      if (comma < 0) {
        fields.push(text.slice(i));
        return fields;
      }
      fields.push(text.slice(i, comma));
      i = comma + 1;
    }
  }
}
