import { randomBytes, randomUUID } from 'node:crypto';
import { createApiToken } from '../../src/auth/api-tokens.repo.ts';
import { SESSION_COOKIE } from '../../src/auth/session.ts';
import { createSession } from '../../src/auth/sessions.repo.ts';
import { hashPassword, insertUserIfAbsent } from '../../src/auth/users.repo.ts';
import type { Db, Permission } from '../../src/db/database.ts';
import type { NewEvent } from '../../src/events/events.schema.ts';
import { createSecretBox } from '../../src/lib/crypto.ts';
import { createIntegration, type NewIntegration } from '../../src/integrations/integrations.service.ts';
import type { TestDatabase } from './database.ts';

/** The key child processes need (SECRET_KEY) to read what tests encrypted. */
export const TEST_SECRET_KEY = randomBytes(32).toString('hex');
export const testSecrets = createSecretBox(TEST_SECRET_KEY);

export async function tokenWith(db: Db, ...permissions: Permission[]): Promise<string> {
  return (await createApiToken(db, { name: `test-${permissions.join('-') || 'none'}`, permissions })).token;
}

/** A webhook integration on loopback with the given options. */
export async function webhookIntegration(database: TestDatabase, input: Partial<NewIntegration> & { id: string }) {
  return createIntegration(
    database.db,
    testSecrets,
    { integrationType: 'permanent', target: { kind: 'webhook', callbackUrl: 'http://127.0.0.1:9/hook' }, ...input },
    'test@example.com',
  );
}

/** An event as ingest stores it (entity order "o", ~150 bytes), for tests that write through the ingest writer. */
export function newEvent(name = 'order.created', publishedAt = new Date()): NewEvent {
  return {
    id: randomUUID(),
    name,
    entity: 'order',
    entityId: 'o',
    domainEntityType: 'order',
    domainEntityId: 'o',
    publishedAt,
    payloadJson: '{"id":"o"}',
    sizeBytes: 150,
  };
}

/** An envelope as producers send it, ~`size` bytes of payload. */
export function envelope(name: string, payload: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return { id: randomUUID(), name, payload: { id: `id-${randomUUID().slice(0, 8)}`, ...payload }, ...extra };
}

/** A signed-in user with `permissions`: the Cookie header to send and the CSRF token. */
export async function signedIn(
  db: Db,
  permissions: Permission[],
  email = `user-${randomUUID().slice(0, 8)}@example.com`,
) {
  const user = await insertUserIfAbsent(db, {
    email,
    passwordHash: await hashPassword('correct horse battery'),
    permissions,
  });
  const { token, csrfToken } = await createSession(db, {
    userId: user!.id,
    address: '127.0.0.1',
    userAgent: 'test',
    now: new Date(),
  });
  return { email, cookie: `${SESSION_COOKIE}=${token}`, csrfToken, userId: user!.id };
}
