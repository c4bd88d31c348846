import { z } from 'zod';

/**
 * Tideway's whole configuration: environment variables, validated once at
 * start. Every variable is described here, and the README's table is checked
 * against this list by a test, so the two cannot drift apart.
 */

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export const ROLES = ['web', 'worker', 'all'] as const;
export type Role = (typeof ROLES)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The worker's health and metrics port when METRICS_PORT is unset (Prometheus exporters' customary port). */
const DEFAULT_WORKER_METRICS_PORT = 9464;
const DEFAULT_RETRY_SCHEDULE = '5,300,1800,7200,18000,36000,36000,50400,72000,86400';

/** A whole number within bounds, given as a decimal string. */
function wholeNumber(fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) {
  return z
    .string()
    .trim()
    .default(String(fallback))
    .pipe(z.string().regex(/^\d+$/, `must be a whole number, e.g. ${fallback}`))
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

function boolean(fallback: boolean) {
  return z
    .string()
    .trim()
    .toLowerCase()
    .default(String(fallback))
    .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' }))
    .transform((value) => value === 'true' || value === '1' || value === 'yes');
}

const CIDR = /^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[0-9a-f:]+\/\d{1,3})$/i;

/** Each variable: its schema (string in, typed value out) and a line for the README. */
/** Comma-separated CIDRs, e.g. `10.0.0.0/8,fd00::/8`; empty by default. */
function cidrs() {
  return z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(CIDR, 'must be comma-separated CIDRs, e.g. 10.0.0.0/8')));
}

const settings = {
  PORT: { schema: wholeNumber(3000, 0, 65535), doc: 'HTTP port of the web role (0 picks a free one).' },
  METRICS_PORT: {
    schema: z
      .string()
      .trim()
      .regex(/^\d+$/, 'must be a port number, e.g. 9464')
      .transform(Number)
      .pipe(z.number().max(65535, 'must be at most 65535'))
      .optional(),
    doc: 'Port on which a `worker` process serves `/healthz`, `/readyz` and `/metrics` (unset: 9464; 0 picks a free one). `web` and `all` serve them on `PORT`, and on this port too when it is set.',
  },
  HOST: {
    schema: z.string().trim().min(1, 'must not be empty').default('127.0.0.1'),
    doc: 'Interface to listen on; `0.0.0.0` to serve beyond this machine.',
  },
  DATA_DIR: {
    schema: z.string().trim().min(1, 'must not be empty').default('./data'),
    doc: 'Embedded database (`DATA_DIR/pglite`) and the generated `secret.key`.',
  },
  DATABASE_URL: {
    schema: z
      .string()
      .trim()
      .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    doc: 'Use this PostgreSQL server instead of the embedded database.',
    secret: true,
  },
  TENANT: {
    schema: z
      .string()
      .trim()
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be lower-case letters, digits, _ or -')
      .default('default'),
    doc: "The deployment's tenant; events naming another are refused.",
  },
  SECRET_KEY: {
    schema: z
      .string()
      .trim()
      .regex(/^[0-9a-f]{64}$/i, 'must be 64 hex characters (a 256-bit key)')
      .optional(),
    doc: 'Key that encrypts stored secrets (AES-256-GCM). Unset: generated into `DATA_DIR/secret.key`.',
    secret: true,
  },
  ADMIN_EMAIL: {
    schema: z
      .string()
      .trim()
      .regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address')
      .default('admin@localhost'),
    doc: 'Email of the admin created on first start when there is no user.',
  },
  ADMIN_PASSWORD: {
    schema: z.string().min(8, 'must be at least 8 characters').optional(),
    doc: "That admin's password. Unset: one is generated and printed once.",
    secret: true,
  },
  ROLE: {
    schema: z.enum(ROLES, { error: 'must be web, worker or all' }).default('all'),
    doc: '`web` serves HTTP, `worker` runs the delivery loops, `all` both. `--role` overrides it.',
  },
  LOG_LEVEL: {
    schema: z.enum(LOG_LEVELS, { error: 'must be debug, info, warn or error' }).default('info'),
    doc: 'Least severe level written to the JSON log on stdout.',
  },
  ALLOW_PRIVATE_TARGETS: {
    schema: boolean(false),
    doc: 'Allow webhooks and S3 endpoints on loopback, private, link-local and metadata addresses.',
  },
  ALLOWED_TARGET_CIDRS: {
    schema: cidrs(),
    doc: 'Comma-separated CIDRs allowed even though private (a narrower alternative to the above).',
  },
  TRUSTED_PROXIES: {
    schema: cidrs(),
    doc: 'Comma-separated CIDRs of reverse proxies whose `X-Forwarded-For` names the client (for sign-in throttling); empty: the connection’s own address.',
  },
  WEBHOOK_TIMEOUT_MS: {
    schema: wholeNumber(15_000, 100, 600_000),
    doc: 'Time a webhook receiver has to answer.',
  },
  WEBHOOK_RETRY_SCHEDULE: {
    schema: z
      .string()
      .default(DEFAULT_RETRY_SCHEDULE)
      .transform((value) => value.split(',').map((part) => part.trim()))
      .pipe(
        z
          .array(z.string().regex(/^\d+$/, 'must be comma-separated whole seconds, e.g. 5,300,1800'))
          .min(1, 'must name at least one delay'),
      )
      .transform((parts) => parts.map(Number)),
    doc: 'Delays in seconds between webhook retries; their count is the number of retries.',
  },
  WEBHOOK_OVERLOAD_BACKOFF_MS: {
    schema: wholeNumber(60_000, 0),
    doc: 'Least delay before retrying a receiver that timed out or answered 429 (a longer retry schedule step or Retry-After wins).',
  },
  WEBHOOK_STOP_AFTER_FAILING_MS: {
    schema: wholeNumber(86_400_000, 1_000),
    doc: 'An integration whose deliveries fail with no success for this long is stopped.',
  },
  DELIVERY_CONCURRENCY: {
    schema: wholeNumber(256, 1, 10_000),
    doc: 'Webhook requests in flight at once, over all integrations.',
  },
  DELIVERY_CONCURRENCY_PER_INTEGRATION: {
    schema: wholeNumber(16, 1, 10_000),
    doc: 'Webhook requests in flight at once for one integration.',
  },
  S3_BATCH_MAX_BYTES: {
    schema: wholeNumber(50 * 1024 * 1024, 1),
    doc: 'An S3 batch is cut when its pending NDJSON reaches this size…',
  },
  S3_BATCH_INTERVAL_MS: {
    schema: wholeNumber(300_000, 10),
    doc: '…or when this long has passed since the previous batch was sent.',
  },
  RETENTION_DAYS: {
    schema: wholeNumber(14, 1, 3650),
    doc: 'Events and their deliveries older than this are pruned.',
  },
  MAX_REQUEST_BYTES: {
    schema: wholeNumber(5 * 1024 * 1024, 1024),
    doc: 'Largest accepted body of `POST /api/v1/events`.',
  },
  MAX_EVENT_BYTES: {
    schema: wholeNumber(1024 * 1024, 256),
    doc: 'Largest accepted single event envelope.',
  },
  MAX_JSON_DEPTH: {
    schema: wholeNumber(64, 2, 100_000),
    doc: 'Deepest nesting accepted in an event (the envelope is 1, its payload 2).',
  },
  ACCESS_TOKEN_TTL_SECONDS: {
    schema: wholeNumber(3600, 60, 86_400),
    doc: 'How long an access token from `POST /v0/token` is valid.',
  },
  PUBLIC_URL: {
    schema: z
      .string()
      .trim()
      .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'must be an http:// or https:// URL, e.g. https://tideway.example.com')
      .transform((value) => value.replace(/\/+$/, ''))
      .optional(),
    doc: 'Address at which operators open Tideway, for the links in notifications. Unset: `http://HOST:PORT`.',
  },
  SMTP_URL: {
    schema: z
      .string()
      .trim()
      .regex(/^smtps?:\/\/\S+$/, 'must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail.example.com:587')
      .optional(),
    doc: 'Mail server for email notification channels (`smtp://` upgrades with STARTTLS when offered, `smtps://` is TLS from the start). Unset: email channels are refused.',
    secret: true,
  },
  MAIL_FROM: {
    schema: z
      .string()
      .trim()
      .regex(/^([^<>]*<)?[^\s@<>]+@[^\s@<>]+>?$/, 'must be an email address, e.g. tideway@example.com')
      .default('tideway@localhost'),
    doc: 'Sender of notification emails.',
  },
  BACKLOG_ALERT_AFTER_MS: {
    schema: wholeNumber(900_000, 1_000),
    doc: 'A running integration whose oldest pending delivery is older than this is reported delayed (`integration.backlog_delayed`), and recovered once it is not.',
  },
  SHUTDOWN_TIMEOUT_MS: {
    schema: wholeNumber(10_000, 0, 600_000),
    doc: 'On SIGTERM/SIGINT, time given to in-flight work before the process exits.',
  },
} satisfies Record<string, { schema: z.ZodType; doc: string; secret?: boolean }>;

export type SettingName = keyof typeof settings;

/** Name, default and meaning of every variable: the README's table. */
export function describeSettings(): { name: SettingName; fallback: string | undefined; doc: string }[] {
  return (Object.keys(settings) as SettingName[]).map((name) => {
    const parsed = settings[name].schema.safeParse(undefined);
    const value = parsed.success ? (parsed.data as unknown) : undefined;
    const fallback = value === undefined ? undefined : Array.isArray(value) ? value.join(',') : String(value);
    return { name, fallback, doc: settings[name].doc };
  });
}

const envSchema = z.object(
  Object.fromEntries(Object.entries(settings).map(([name, s]) => [name, s.schema])) as {
    [K in SettingName]: (typeof settings)[K]['schema'];
  },
);
type Env = z.output<typeof envSchema>;

export interface Config {
  readonly port: number;
  /** Where health and metrics are served apart from the web app (always for a worker). */
  readonly metricsPort: number | undefined;
  readonly host: string;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly tenant: string;
  readonly secretKey: string | undefined;
  readonly adminEmail: string;
  readonly adminPassword: string | undefined;
  readonly role: Role;
  readonly logLevel: LogLevel;
  readonly trustedProxies: readonly string[];
  readonly outbound: {
    readonly allowPrivateTargets: boolean;
    readonly allowedCidrs: readonly string[];
    /** How outbound hosts are resolved: the system's resolver unless a test injects one (see delivery/outbound.ts). */
    readonly resolve?: (host: string) => Promise<string[]>;
  };
  readonly webhook: {
    readonly timeoutMs: number;
    readonly retryScheduleSeconds: readonly number[];
    readonly stopAfterFailingMs: number;
    readonly overloadBackoffMs: number;
    readonly concurrency: number;
    readonly concurrencyPerIntegration: number;
  };
  readonly s3: { readonly batchMaxBytes: number; readonly batchIntervalMs: number };
  readonly retentionDays: number;
  readonly ingest: { readonly maxRequestBytes: number; readonly maxEventBytes: number; readonly maxJsonDepth: number };
  readonly accessTokenTtlSeconds: number;
  readonly shutdownTimeoutMs: number;
  readonly notifications: {
    /** Where links in notifications point: PUBLIC_URL, or http://HOST:PORT. */
    readonly publicUrl: string;
    readonly smtpUrl: string | undefined;
    readonly mailFrom: string;
    readonly backlogAlertAfterMs: number;
  };
}

/** Thrown with every bad variable at once, so one start reveals all mistakes. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      `Invalid configuration:\n${problems.map((problem) => `  ${problem.variable}: ${problem.message}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment into a frozen Config, or throws a ConfigError naming
 * every bad variable. Empty variables count as unset. Values of secret
 * variables are never repeated in the error.
 *
 * @example loadConfig({ PORT: '8080' }).port // 8080
 */
export function loadConfig(env: Record<string, string | undefined>, overrides: { role?: string } = {}): Config {
  const present = Object.fromEntries(
    (Object.keys(settings) as SettingName[])
      .map((name) => [name, name === 'ROLE' && overrides.role !== undefined ? overrides.role : env[name]] as const)
      .filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = envSchema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const variable = String(issue.path[0]);
      const shown = variable in settings && 'secret' in settings[variable as SettingName];
      const given = present[variable];
      const suffix = shown || given === undefined ? '' : ` (got ${JSON.stringify(given)})`;
      return { variable, message: issue.message + suffix };
    });
    throw new ConfigError(dedupeByVariable(problems));
  }
  return deepFreeze(toConfig(result.data));
}

function dedupeByVariable(problems: { variable: string; message: string }[]) {
  const seen = new Set<string>();
  return problems.filter((problem) => !seen.has(problem.variable) && seen.add(problem.variable));
}

function toConfig(env: Env): Config {
  return {
    port: env.PORT,
    metricsPort: env.METRICS_PORT ?? (env.ROLE === 'worker' ? DEFAULT_WORKER_METRICS_PORT : undefined),
    host: env.HOST,
    dataDir: env.DATA_DIR,
    databaseUrl: env.DATABASE_URL,
    tenant: env.TENANT,
    secretKey: env.SECRET_KEY,
    adminEmail: env.ADMIN_EMAIL,
    adminPassword: env.ADMIN_PASSWORD,
    role: env.ROLE,
    logLevel: env.LOG_LEVEL,
    trustedProxies: env.TRUSTED_PROXIES,
    outbound: { allowPrivateTargets: env.ALLOW_PRIVATE_TARGETS, allowedCidrs: env.ALLOWED_TARGET_CIDRS },
    webhook: {
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      retryScheduleSeconds: env.WEBHOOK_RETRY_SCHEDULE,
      stopAfterFailingMs: env.WEBHOOK_STOP_AFTER_FAILING_MS,
      overloadBackoffMs: env.WEBHOOK_OVERLOAD_BACKOFF_MS,
      concurrency: env.DELIVERY_CONCURRENCY,
      concurrencyPerIntegration: env.DELIVERY_CONCURRENCY_PER_INTEGRATION,
    },
    s3: { batchMaxBytes: env.S3_BATCH_MAX_BYTES, batchIntervalMs: env.S3_BATCH_INTERVAL_MS },
    retentionDays: env.RETENTION_DAYS,
    ingest: {
      maxRequestBytes: env.MAX_REQUEST_BYTES,
      maxEventBytes: env.MAX_EVENT_BYTES,
      maxJsonDepth: env.MAX_JSON_DEPTH,
    },
    accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    notifications: {
      publicUrl: env.PUBLIC_URL ?? `http://${env.HOST.includes(':') ? `[${env.HOST}]` : env.HOST}:${env.PORT}`,
      smtpUrl: env.SMTP_URL,
      mailFrom: env.MAIL_FROM,
      backlogAlertAfterMs: env.BACKLOG_ALERT_AFTER_MS,
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
