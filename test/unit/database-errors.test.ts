import { expect, test } from 'bun:test';
import { isDatabaseUnavailable, isTransientDatabaseError, lostRace } from '../../src/db/unavailable.ts';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

test('the database being away: refused or reset connections, a dying server, a pool that cannot connect', () => {
  for (const error of [
    withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
    withCode('57P01', 'terminating connection due to administrator command'),
    withCode('57P03', 'the database system is starting up'),
    withCode('08006'),
    new Error('Connection terminated unexpectedly'),
    new Error('Client has encountered a connection error and is not queryable'),
    new Error('timeout exceeded when trying to connect'),
    Object.assign(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]), {}),
    new Error('Migration 01 failed', { cause: withCode('ECONNREFUSED') }),
  ]) {
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(isTransientDatabaseError(error)).toBe(true);
  }
});

test('a lost race is worth running again but is not the database being away', () => {
  for (const code of ['40P01', '40001']) {
    expect(lostRace(withCode(code))).toBe(true);
    expect(isDatabaseUnavailable(withCode(code))).toBe(false);
    expect(isTransientDatabaseError(withCode(code))).toBe(true);
  }
});

test('a statement that is wrong is neither', () => {
  for (const error of [
    withCode('23505', 'duplicate key value'),
    withCode('42P01', 'relation does not exist'),
    new Error('boom'),
    null,
    undefined,
  ]) {
    expect(isTransientDatabaseError(error)).toBe(false);
  }
});
