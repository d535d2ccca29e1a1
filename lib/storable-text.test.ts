import { describe, expect, it } from 'vitest';
import { findUnstorableText, storableText, storableValue, unstorableText } from './storable-text.ts';

describe('unstorableText', () => {
  it('takes any well-formed text, surrogate pairs included', () => {
    expect(unstorableText('')).toBeNull();
    expect(unstorableText('Ромашка 🙂 \u0001 \uFFFD')).toBeNull();
  });

  it('names a NUL with its offset, and a lone surrogate of either half', () => {
    expect(unstorableText('ab\u0000')).toBe('contains a NUL character (at offset 2)');
    expect(unstorableText('a\ud83d')).toMatch(/^is not valid Unicode \(a lone surrogate/);
    expect(unstorableText('\ude42a')).toMatch(/^is not valid Unicode/);
  });
});

describe('findUnstorableText', () => {
  it('finds every bad value and key with its path', () => {
    const found = findUnstorableText({ a: ['ok', 'x\u0000'], 'k\u0000': 'ok', b: { c: '\ud800' }, n: 1, z: null });
    expect(found).toEqual(
      expect.arrayContaining([
        { path: ['a', 1], message: 'contains a NUL character (at offset 1)' },
        { path: ['k\u0000'], message: 'the name contains a NUL character (at offset 1)' },
        { path: ['b', 'c'], message: 'is not valid Unicode (a lone surrogate, which UTF-8 cannot hold)' },
      ]),
    );
    expect(found).toHaveLength(3);
  });

  it('walks a value nested 100,000 deep without recursion', () => {
    let value: unknown = '\u0000';
    for (let i = 0; i < 100_000; i++) value = [value];
    const [found] = findUnstorableText(value);
    expect(found?.path).toHaveLength(100_000);
  });
});

describe('storableValue', () => {
  it('drops NULs and replaces lone surrogates in strings and keys, deep', () => {
    expect(storableText('a\u0000b\ud800c🙂')).toBe('ab\ufffdc🙂');
    expect(storableValue({ 'k\u0000': ['x\u0000', { y: '\udc00' }], n: 1, z: null })).toEqual({ k: ['x', { y: '\ufffd' }], n: 1, z: null });
  });

  it('gives back the value itself when nothing needed a change', () => {
    const value = { a: ['x', { y: 'z' }], n: 1 };
    expect(storableValue(value)).toBe(value);
  });
});
