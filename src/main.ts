import { parseArgs } from 'node:util';
import packageJson from '../package.json' with { type: 'json' };
import { createApp, createOpsApp, FORM_BODY_LIMIT_BYTES } from './app.ts';
import { ensureFirstAdmin } from './auth/bootstrap.ts';
import { openDeployment } from './boot.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { DataDirLockedError } from './db/data-dir-lock.ts';
import { createLogger, type Logger } from './lib/log.ts';
import { SecretKeyMismatchError } from './db/secret-key.ts';
import { createS3Loop } from './delivery/s3-loop.ts';
import { createWebhookLoop } from './delivery/webhook-loop.ts';
import { reportLoopsFrom } from './lib/metrics.ts';
import { createRetention } from './events/retention.ts';
import { createIntervalLoop } from './loops/interval-loop.ts';
import { LoopRegistry } from './loops/registry.ts';
import { createNotificationLoop } from './notifications/notification-loop.ts';
import { createNotificationWatch } from './notifications/watch.ts';

const RETENTION_INTERVAL_MS = 10 * 60_000;

/**
 * Tideway's process: config → database → migrations → first admin → HTTP
 * server (web role) → background loops (worker role) → graceful shutdown on
 * SIGTERM/SIGINT.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { role: { type: 'string' } }, strict: true });
  const config = loadConfigOrExit(values.role);
  const log = createLogger(config.logLevel).child({ pid: process.pid, role: config.role });

  const deployment = await openDeployment(config, log);
  const { db, kind } = deployment.database;
  await ensureFirstAdmin(db, { email: config.adminEmail, password: config.adminPassword }, (message) =>
    process.stderr.write(`\n${message}\n\n`),
  );

  warnIfFetchCannotKeepUp(config, log);
  const loops = new LoopRegistry(log);
  const appDeps = {
    db,
    databaseKind: kind,
    config,
    secrets: deployment.secrets,
    log,
    version: packageJson.version,
    health: loops,
  };
  const server =
    config.role === 'worker'
      ? undefined
      : Bun.serve({
          hostname: config.host,
          port: config.port,
          idleTimeout: 60,
          // Bun's default is 128 MiB: past the ingest limit, a body is refused before it is read.
          maxRequestBodySize: config.ingest.maxRequestBytes + FORM_BODY_LIMIT_BYTES,
          fetch: createApp(appDeps).fetch,
        });
  // Health and metrics on a port of their own: how a worker, which serves no web app, is probed and scraped.
  const opsServer =
    config.metricsPort === undefined
      ? undefined
      : serveOps(config.host, config.metricsPort, createOpsApp(appDeps).fetch);

  if (config.role !== 'web') {
    const session = await deployment.database.session();
    const retention = createRetention({
      db,
      retentionDays: config.retentionDays,
      log: log.child({ loop: 'retention' }),
    });
    loops.register(
      createIntervalLoop(
        'retention',
        RETENTION_INTERVAL_MS,
        (beat) => retention.runOnce(beat),
        log.child({ loop: 'retention' }),
      ),
    );
    const webhook = loops.register(
      createWebhookLoop({
        db,
        session,
        secrets: deployment.secrets,
        config,
        log: log.child({ loop: 'webhook-delivery' }),
      }),
    );
    const s3 = loops.register(
      createS3Loop({
        db,
        copyOut: deployment.database.copyOut,
        secrets: deployment.secrets,
        config,
        log: log.child({ loop: 's3-batches' }),
      }),
    );
    loops.register(
      createNotificationLoop({
        db,
        config,
        secrets: deployment.secrets,
        log: log.child({ loop: 'notifications' }),
      }),
    );
    loops.register(createNotificationWatch(db, config, log.child({ loop: 'notification-watch' })));
    reportLoopsFrom(() => ({ heartbeats: loops.heartbeats(), webhook: webhook.stats(), s3Uploading: s3.uploading() }));
    loops.startAll();
  }
  log.info('tideway started', {
    version: packageJson.version,
    database: kind,
    url: server ? `http://${config.host}:${server.port}` : undefined,
    metrics_url: opsServer ? `http://${config.host}:${opsServer.port}` : undefined,
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    const deadline = Date.now() + config.shutdownTimeoutMs;
    const forceExit = setTimeout(() => {
      log.error('shutdown overran its deadline; exiting', { timeout_ms: config.shutdownTimeoutMs });
      process.exit(1);
    }, config.shutdownTimeoutMs);
    // Stop accepting first, let in-flight requests and work finish, then close the database.
    await Promise.all([server?.stop(false), loops.stopAll(Math.max(0, deadline - Date.now() - 500))]);
    await opsServer?.stop(true);
    await deployment.close();
    clearTimeout(forceExit);
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** Serves the health and metrics app; a port already taken is a start failure that says what to set. */
function serveOps(hostname: string, port: number, fetch: (request: Request) => Response | Promise<Response>) {
  try {
    return Bun.serve({ hostname, port, idleTimeout: 30, maxRequestBodySize: FORM_BODY_LIMIT_BYTES, fetch });
  } catch (error) {
    throw new StartError(
      `Could not serve health and metrics on ${hostname}:${port} (${(error as Error).message}). Set METRICS_PORT to a free port, or 0 for any.`,
    );
  }
}

/** Bun runs at most this many HTTP requests at once unless told otherwise (BUN_CONFIG_MAX_HTTP_REQUESTS). */
const BUN_DEFAULT_MAX_HTTP_REQUESTS = 256;
/** Room for S3 uploads, Test connection and resends beside the webhook loop. */
const OTHER_REQUESTS = 64;

/**
 * Bun queues requests past its limit with their timeout already running, so
 * with DELIVERY_CONCURRENCY at that limit, S3 uploads and webhook attempts
 * would wait in Bun's queue and time out through no fault of the receiver.
 * The limit is read once when Bun starts, so `bun start` sets it; a process
 * started otherwise is told what to set.
 */
function warnIfFetchCannotKeepUp(config: Config, log: Logger) {
  const limit = Number(process.env.BUN_CONFIG_MAX_HTTP_REQUESTS) || BUN_DEFAULT_MAX_HTTP_REQUESTS;
  const needed = config.webhook.concurrency + OTHER_REQUESTS;
  if (config.role !== 'web' && limit < needed) {
    log.warn('Bun allows fewer HTTP requests at once than the delivery loops need', {
      allowed: limit,
      needed,
      fix: `start with BUN_CONFIG_MAX_HTTP_REQUESTS=${needed} (or more) in the environment, as bun start does`,
    });
  }
}

/** A start failure whose message says it all. */
class StartError extends Error {}

function loadConfigOrExit(role: string | undefined): Config {
  try {
    return loadConfig(process.env, { role });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/** Known start failures get their message alone; anything else its stack. */
function exitOnStartFailure(error: unknown, log: Logger): never {
  if (error instanceof DataDirLockedError || error instanceof SecretKeyMismatchError || error instanceof StartError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    log.error('start failed', { error });
  }
  process.exit(1);
}

main().catch((error) => exitOnStartFailure(error, createLogger('error')));
