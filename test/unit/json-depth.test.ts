import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { jsonDepth, nestedDeeperThan } from '../../src/lib/json-depth.ts';

/** The depth of a parsed value, the slow way. */
function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (value && typeof value === 'object') return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

describe('the depth of a JSON text, read without parsing', () => {
  test('agrees with the parsed value for any JSON, strings with brackets, quotes and backslashes included', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), (value) => {
        const text = JSON.stringify(value);
        expect(jsonDepth(text)).toBe(depthOf(value));
        expect(jsonDepth(JSON.stringify(value, null, 2))).toBe(depthOf(value));
      }),
      { numRuns: 500 },
    );
  });

  test('strings that look like structure do not count', () => {
    expect(jsonDepth('{"a":"{[{[\\"]}"}')).toBe(1);
    expect(jsonDepth('["\\\\", ["x"]]')).toBe(2);
  });

  test('per element of an array: which ones pass the limit, numbered from 0', () => {
    const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    const text = `[{"a":1}, {"b":${deep(5)}}, "x", {"c":${deep(2)}}]`;
    expect(nestedDeeperThan(text, 3).values).toEqual([{ index: 1, depth: 6 }]);
    expect(nestedDeeperThan(text, 100).values).toEqual([]);
    expect(nestedDeeperThan(`{"a":${deep(5)}}`, 3).values).toEqual([{ depth: 6 }]);
    expect(nestedDeeperThan(deep(50_000), 64).values).toEqual([{ index: 0, depth: 49_999 }]);
  });
});
