import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort } from '../../apps/cli/src/stack/free-port';
import type { TestRedis } from './test-redis';

export { freePort };

/** A private redis-server on a free port with its own temporary directory. */
export class RedisServer implements TestRedis {
  readonly kind = 'single';
  private proc?: ChildProcess;
  readonly dir = mkdtempSync(join(tmpdir(), 'agent-memory-redis-'));
  port = 0;

  constructor(private readonly args: string[] = ['--save', '', '--appendonly', 'no']) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get env(): Record<string, string> {
    return { REDIS_URL: this.url };
  }

  client(): Redis {
    return new Redis(this.url, { maxRetriesPerRequest: 1 });
  }

  /**
   * Starts the server on its port, or on a free one picked here. A port free when picked can be taken before
   * redis-server binds it (outgoing connections take theirs from the same range), and it then exits at once: a port
   * picked here is picked again; a given one (a restart) is not.
   */
  async start(): Promise<this> {
    const pick = this.port === 0;
    for (let attempt = 1; attempt <= 3; attempt++) {
      if (pick) this.port = await freePort();
      // a session of its own, as a deployment's Redis has: it does not share the CPU of the client that runs it (autogroups)
      const proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, ...this.args], { stdio: 'ignore', detached: true });
      const killOnExit = () => proc.kill('SIGKILL');
      process.once('exit', killOnExit);
      proc.once('exit', () => process.off('exit', killOnExit));
      this.proc = proc;
      if (await this.answers(proc)) return this;
      if (!pick || proc.exitCode === null) {
        proc.kill('SIGKILL');
        break;
      }
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** Whether it answers PING within 5 s; false at once when it exits. */
  private async answers(proc: ChildProcess): Promise<boolean> {
    const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    for (let i = 0; i < 100 && proc.exitCode === null; i++) {
      try {
        await client.connect();
        await client.ping();
        client.disconnect();
        return true;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    return false;
  }

  /** SIGSTOP: the server keeps its connections open and answers nothing, as a hung or swapping Redis does. */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  /** SIGCONT: the server answers again, starting with what it was sent while paused. */
  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  /** Stops the server (a paused one too); `keepData` leaves the directory for a restart on the same port. */
  async stop(keepData = false): Promise<void> {
    const proc = this.proc;
    if (proc && proc.exitCode === null) {
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGCONT');
        proc.kill('SIGTERM');
      });
    }
    if (!keepData) rmSync(this.dir, { recursive: true, force: true });
  }
}
