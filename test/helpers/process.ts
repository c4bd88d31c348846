import type { Subprocess } from 'bun';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dir, '../..');

/** A child process's output, collected as it arrives. */
export class Output {
  text = '';
  /** Settles when the stream has ended (the process closed it or exited). */
  readonly closed: Promise<void>;
  constructor(stream: ReadableStream<Uint8Array>) {
    this.closed = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) this.text += decoder.decode(chunk, { stream: true });
    })();
  }
  /** JSON log lines seen so far. */
  logLines(): Record<string, unknown>[] {
    return this.text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

export interface RunningTideway {
  proc: Subprocess<'ignore', 'pipe', 'pipe'>;
  stdout: Output;
  stderr: Output;
  /** Base URL once it listens (web roles; empty for a worker). */
  url: string;
  /** Base URL of its health and metrics port, when it has one (workers). */
  metricsUrl: string;
}

/** The environment a child Tideway gets: ours minus anything that would redirect it. */
export function childEnv(env: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && key !== 'DATABASE_URL' && key !== 'SECRET_KEY') base[key] = value;
  }
  return { ...base, LOG_LEVEL: 'info', ...env };
}

/** Spawns `bun src/main.ts` and waits until it says it has started (or exits). */
export async function startTideway(
  env: Record<string, string>,
  timeoutMs = 45_000,
  args: string[] = [],
): Promise<RunningTideway> {
  const proc = Bun.spawn(['bun', 'src/main.ts', ...args], {
    cwd: ROOT,
    // Workers serve health and metrics on a port of their own: any free one, so that several can run side by side.
    // As `bun start` runs it: Bun's concurrent-request limit raised past DELIVERY_CONCURRENCY.
    env: childEnv({
      PORT: '0',
      BUN_CONFIG_MAX_HTTP_REQUESTS: '1024',
      ...(args.includes('worker') ? { METRICS_PORT: '0' } : {}),
      ...env,
    }),
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const stdout = new Output(proc.stdout);
  const stderr = new Output(proc.stderr);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const started = stdout.logLines().find((line) => line.msg === 'tideway started');
    if (started)
      return { proc, stdout, stderr, url: String(started.url ?? ''), metricsUrl: String(started.metrics_url ?? '') };
    if (proc.exitCode !== null) break;
    await Bun.sleep(50);
  }
  proc.kill('SIGKILL');
  throw new Error(`Tideway did not start (exit ${proc.exitCode}):\n${stdout.text}\n${stderr.text}`);
}

/** Sends `signal` and waits for the exit code. */
export async function stopTideway(running: RunningTideway, signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
  running.proc.kill(signal);
  return running.proc.exited;
}
