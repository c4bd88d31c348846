import { expect, test } from 'bun:test';
import type { KyselyPlugin } from 'kysely';
import { createTokenVerifier } from '../../src/auth/bearer.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { tokenWith } from '../helpers/fixtures.ts';

const database = useTestDatabase();

/** Counts the statements run through the Kysely instance it is added to. */
function statementCounter() {
  const counter = { statements: 0, plugin: undefined as unknown as KyselyPlugin };
  counter.plugin = {
    transformQuery: (args) => {
      counter.statements++;
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  return counter;
}

test('requests that find a token uncached at the same moment share one lookup', async () => {
  const token = await tokenWith(database().db, 'publish_events');
  let clock = Date.now();
  const counter = statementCounter();
  const verifier = createTokenVerifier(database().db.withPlugin(counter.plugin), {
    accessTokenKey: 'k',
    now: () => clock,
  });

  const first = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(token)));
  expect(first.every((row) => row?.actor === 'API token "test-publish_events"')).toBe(true);
  // The lookup and the last-used mark, once for all twenty.
  expect(counter.statements).toBe(2);

  clock += 60_000; // the cache entry has expired
  await Promise.all(Array.from({ length: 20 }, () => verifier.verify(token)));
  expect(counter.statements).toBe(4);
});
