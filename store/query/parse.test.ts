import { describe, expect, it } from 'vitest';
import { StoreQueryError } from '../errors.js';
import { parseQuery } from './parse.js';

function errorOf(query: string): { message: string; column: number | undefined } {
  try {
    parseQuery(query);
  } catch (error) {
    if (error instanceof StoreQueryError) return { message: error.message, column: error.column };
    throw error;
  }
  throw new Error(`expected ${query} to fail`);
}

describe('parseQuery', () => {
  it('reads field:value by the field type', () => {
    expect(parseQuery('user.name:root')).toEqual({
      kind: 'term',
      field: { name: 'user.name', type: 'keyword', column: 'user_name' },
      value: 'root',
    });
    expect(parseQuery('event.severity:5')).toMatchObject({ kind: 'term', value: 5 });
    expect(parseQuery('user.name:"John Smith"')).toMatchObject({ kind: 'term', value: 'John Smith' });
    expect(parseQuery('source.ip:2001:db8::1')).toMatchObject({ kind: 'term', value: '2001:db8::1' });
    expect(parseQuery('labels.env:prod')).toMatchObject({ kind: 'term', field: { type: 'unmapped' } });
  });

  it('reads CIDR blocks, wildcards, exists and ranges', () => {
    const cidr = parseQuery('source.ip:10.20.0.0/16');
    expect(cidr).toMatchObject({ kind: 'cidr', cidr: '10.20.0.0/16' });
    if (cidr.kind !== 'cidr') throw new Error('not a cidr');
    expect(cidr.first.toString('hex')).toBe('00000000000000000000ffff0a140000');
    expect(cidr.last.toString('hex')).toBe('00000000000000000000ffff0a14ffff');
    expect(parseQuery('user.name:adm?n*')).toMatchObject({
      kind: 'wildcard',
      pattern: ['adm', { wildcard: '?' }, 'n', { wildcard: '*' }],
    });
    expect(parseQuery('user.name:a\\*b')).toMatchObject({ kind: 'term', value: 'a*b' });
    expect(parseQuery('host.hostname:*')).toMatchObject({ kind: 'exists' });
    expect(parseQuery('event.severity >= 5')).toMatchObject({ kind: 'range', op: 'gte', value: 5 });
    expect(parseQuery('@timestamp<2025-03-01T17:00:00+07:00')).toMatchObject({
      kind: 'range',
      op: 'lt',
      value: '2025-03-01T10:00:00.000000000Z',
    });
    expect(parseQuery('@timestamp:2025-03-01')).toMatchObject({
      kind: 'and',
      children: [
        { kind: 'range', op: 'gte', value: '2025-03-01T00:00:00.000000000Z' },
        { kind: 'range', op: 'lt', value: '2025-03-02T00:00:00.000000000Z' },
      ],
    });
  });

  it('searches message with bare words, phrases and a trailing *', () => {
    expect(parseQuery('Failed password')).toMatchObject({
      kind: 'and',
      children: [
        { kind: 'text', tokens: ['failed'] },
        { kind: 'text', tokens: ['password'] },
      ],
    });
    expect(parseQuery('"Failed password"')).toMatchObject({ kind: 'text', tokens: ['failed', 'password'] });
    expect(parseQuery('đăng*')).toMatchObject({ kind: 'text', tokens: ['đăng'], prefix: true });
    expect(parseQuery('url.original.text:admin')).toMatchObject({
      kind: 'text',
      field: { name: 'url.original.text', source: 'url.original' },
    });
  });

  it('combines with and, or, not and parentheses, and before or', () => {
    const tree = parseQuery('a or b c and not (d or user.name:(x or "y z"))');
    expect(tree).toMatchObject({
      kind: 'or',
      children: [
        { kind: 'text', text: 'a' },
        {
          kind: 'and',
          children: [
            { kind: 'text', text: 'b' },
            { kind: 'text', text: 'c' },
            {
              kind: 'not',
              child: {
                kind: 'or',
                children: [
                  { kind: 'text', text: 'd' },
                  { kind: 'term', value: 'x' },
                  { kind: 'term', value: 'y z' },
                ],
              },
            },
          ],
        },
      ],
    });
    expect(parseQuery('NOT NOT user.name:a')).toMatchObject({ kind: 'term' });
    expect(parseQuery('   ')).toEqual({ kind: 'all' });
    expect(parseQuery('source.ip:(::1 or 10.0.0.1)')).toMatchObject({
      kind: 'or',
      children: [{ value: '::1' }, { value: '10.0.0.1' }],
    });
  });

  it('points at the column of what is wrong', () => {
    expect(errorOf('sourc.ip:1.2.3.4')).toEqual({
      message: 'unknown field sourc.ip (did you mean source.ip?)',
      column: 1,
    });
    expect(errorOf('user.name:root and event.severity:high')).toMatchObject({ column: 35 });
    expect(errorOf('source.ip:10.0.0.300')).toMatchObject({ column: 11 });
    expect(errorOf('source.ip:10.0.0.0/33')).toMatchObject({ column: 11 });
    expect(errorOf('source.ip:10.*')).toMatchObject({ column: 11 });
    expect(errorOf('message:*fail')).toMatchObject({ column: 9 });
    expect(errorOf('user.name:(a or b')).toEqual({ message: 'missing )', column: 18 });
    expect(errorOf('a )')).toEqual({ message: 'unbalanced )', column: 3 });
    expect(errorOf('user.name:"abc')).toEqual({ message: 'unterminated quoted string', column: 11 });
    expect(errorOf('a and')).toMatchObject({ column: 6 });
    expect(errorOf('or a')).toMatchObject({ column: 1 });
    expect(errorOf('event.original:x')).toMatchObject({
      message: 'event.original is stored but not searchable',
    });
    expect(errorOf('message > 5')).toMatchObject({ column: 11 });
    expect(errorOf(`${'('.repeat(40)}a${')'.repeat(40)}`).message).toMatch(/nested deeper/);
    expect(errorOf('x'.repeat(9000)).message).toMatch(/longer than/);
  });
});
