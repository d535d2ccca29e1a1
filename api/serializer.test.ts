import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { answerSerializer } from './serializer.ts';

const route = {
  schema: z.object({ id: z.string(), at: z.string().nullable(), tags: z.array(z.string()) }),
  method: 'GET',
  url: '/things',
  httpStatus: '200',
};

describe('answerSerializer', () => {
  it('sends an answer as built, and the checked one only when its schema would send the same', () => {
    const answer = { id: '1', at: null, tags: ['a'] };
    expect(answerSerializer(false)(route)(answer)).toBe('{"id":"1","at":null,"tags":["a"]}');
    expect(answerSerializer(true)(route)(answer)).toBe('{"id":"1","at":null,"tags":["a"]}');
    // Keys in another order are the same answer.
    expect(JSON.parse(answerSerializer(true)(route)({ tags: ['a'], at: null, id: '1' }))).toEqual(answer);
  });

  it('refuses, when checked, an answer with a field its schema leaves out or of the wrong type', () => {
    const checked = answerSerializer(true)(route);
    expect(() => checked({ id: '1', at: null, tags: [], secret: 'key' })).toThrow(/GET \/things: the answer as built differs/);
    expect(() => checked({ id: 1, at: null, tags: [] })).toThrow();
    // Unchecked, the server sends what the handler built: the check in tests is what keeps the two the same.
    expect(answerSerializer(false)(route)({ id: '1', at: null, tags: [], secret: 'key' })).toContain('secret');
  });
});
