import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createApiToken } from './auth/api-tokens.repo.ts';
import { emailSchema, passwordSchema, permissionListSchema, tokenNameSchema } from './auth/auth.schema.ts';
import { hashPassword, insertUserIfAbsent } from './auth/users.repo.ts';
import { openDeployment, type Deployment } from './boot.ts';
import { ConfigError, loadConfig } from './config.ts';
import type { Permission } from './db/database.ts';
import { DataDirLockedError } from './db/data-dir-lock.ts';
import { createLogger } from './lib/log.ts';
import { SecretKeyMismatchError } from './db/secret-key.ts';
import { seedDatabase } from './seed.ts';

/*
 * The admin CLI, `bun run tideway <command>`. It works on the deployment that
 * the environment names (DATABASE_URL, else DATA_DIR). Results go to stdout
 * (for `token create`, the token alone, so scripts can capture it); logs and
 * errors go to stderr. Exit codes: 0 done, 1 failed, 2 bad usage or input.
 */

const USAGE = `Usage: bun run tideway <command> [options]

Commands:
  migrate                                   apply pending database migrations
  user create --email E --password P --permission view_tools,publish_events,manage_users
  token create --name N --permission publish_events    prints the new token (only) on stdout
  seed --events N --days D --integrations K [--payload-bytes B]
                                            writes N synthetic events over the last D days, each with a
                                            settled delivery and attempt per integration (creates K paused
                                            webhook integrations when there are none)
`;

class UsageError extends Error {}

/** A command checks its options before anything is opened, then runs on the deployment. */
interface Command<Input> {
  parse(args: string[]): Input;
  run(deployment: Deployment, input: Input): Promise<string>;
}

const migrate: Command<void> = {
  parse: (args) => void parseOptions(args, {}),
  // Opening the deployment has already applied whatever was pending.
  run: async () => 'The database schema is up to date.',
};

const userCreate: Command<{ email: string; password: string; permission: Permission[] }> = {
  parse: (args) =>
    parseOptions(args, { email: emailSchema, password: passwordSchema, permission: permissionListSchema }),
  async run({ database }, input) {
    const created = await insertUserIfAbsent(database.db, {
      email: input.email,
      passwordHash: await hashPassword(input.password),
      permissions: input.permission,
    });
    if (!created) throw new UsageError(`--email: a user with the email ${input.email} already exists`);
    return `Created user ${created.email} (${created.permissions.join(', ')})`;
  },
};

const tokenCreate: Command<{ name: string; permission: Permission[] }> = {
  parse: (args) => parseOptions(args, { name: tokenNameSchema, permission: permissionListSchema }),
  async run({ database }, input) {
    const { token } = await createApiToken(database.db, { name: input.name, permissions: input.permission });
    return token;
  },
};

/** A positive whole number given as an option's text. */
const count = (what: string, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number of ${what}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .min(1, 'must be at least 1')
        .max(max, `must be at most ${max.toLocaleString('en')}`),
    );

const seed: Command<{ events: number; days: number; integrations: number; 'payload-bytes'?: number }> = {
  parse: (args) =>
    parseOptions(args, {
      events: count('events', 1_000_000_000),
      days: count('days', 3_650),
      integrations: count('integrations', 50),
      'payload-bytes': count('bytes', 1_000_000).optional(),
    }),
  async run({ database, secrets }, input) {
    const config = loadConfig(process.env);
    const result = await seedDatabase(
      database.db,
      secrets,
      {
        events: input.events,
        days: input.days,
        integrations: input.integrations,
        payloadBytes: input['payload-bytes'],
        tenant: config.tenant,
        now: new Date(),
      },
      (done, total, seconds) =>
        process.stderr.write(
          `seeded ${done.toLocaleString('en')} of ${total.toLocaleString('en')} events (${Math.round(done / seconds).toLocaleString('en')} events/s)\n`,
        ),
    );
    return `Seeded ${result.events.toLocaleString('en')} events and ${result.deliveries.toLocaleString('en')} deliveries with their attempts for ${result.integrations.join(', ')} in ${result.seconds.toFixed(1)} s (${Math.round(result.events / result.seconds).toLocaleString('en')} events/s).`;
  },
};

const commands: Record<string, Command<unknown>> = {
  migrate,
  'user create': userCreate,
  'token create': tokenCreate,
  seed,
};

/** Parses `--name value` options with zod; every bad or missing option is reported at once. */
function parseOptions<S extends Record<string, z.ZodType<unknown, string | undefined>>>(
  args: string[],
  schemas: S,
): { [K in keyof S]: z.output<S[K]> } {
  const options = Object.fromEntries(Object.keys(schemas).map((name) => [name, { type: 'string' as const }]));
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const result = z.object(schemas).safeParse(values);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const option = `--${String(issue.path[0])}`;
      return issue.code === 'invalid_type' ? `${option}: is required` : `${option}: ${issue.message}`;
    });
    throw new UsageError(lines.join('\n'));
  }
  return result.data as { [K in keyof S]: z.output<S[K]> };
}

export async function runCli(argv: string[]): Promise<number> {
  const name = [argv[0], argv[1]].filter(Boolean).join(' ');
  const commandName = name in commands ? name : argv[0] && argv[0] in commands ? argv[0] : undefined;
  if (!commandName) {
    process.stderr.write(argv.length === 0 || argv[0] === 'help' ? USAGE : `Unknown command "${name}".\n\n${USAGE}`);
    return argv.length === 0 || argv[0] === 'help' ? 0 : 2;
  }
  const command = commands[commandName]!;
  let deployment: Deployment | undefined;
  try {
    const input: unknown = command.parse(argv.slice(commandName.split(' ').length));
    const config = loadConfig(process.env);
    const log = createLogger(config.logLevel, (line) => process.stderr.write(`${line}\n`));
    deployment = await openDeployment(config, log);
    process.stdout.write(`${await command.run(deployment, input)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    if (error instanceof DataDirLockedError || error instanceof SecretKeyMismatchError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await deployment?.close();
  }
}

if (import.meta.main) process.exit(await runCli(process.argv.slice(2)));
