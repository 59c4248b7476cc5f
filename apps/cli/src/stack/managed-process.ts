import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export type LogSink = (name: string, line: string) => void;

const TAIL_LINES = 20;
/** A process that ran this long before exiting starts its restarts from the shortest delay again. */
const STABLE_MS = 60_000;

/**
 * One child process of the stack. It runs in its own process group so that Ctrl-C reaches only the
 * launcher, which then stops the children in order; every output line goes to the sink with the name.
 */
export class ManagedProcess {
  private child?: ChildProcess;
  /** The last lines it printed, to say why it died. */
  private readonly tail: string[] = [];
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  /** Set by stop() and kill(): an exit is then wanted, not restarted. */
  private stopping = false;
  private restart?: { max: number; inRow: number; timer?: NodeJS.Timeout };

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: string[],
    private readonly log: LogSink,
    /** The whole environment of the child; the launcher's own when omitted. */
    private readonly env?: Record<string, string>,
  ) {}

  /**
   * Restarts the process whenever it exits without being stopped, after 1 s, then 2, 4, ... up to 30 s; gives up
   * (and stays down) after `max` restarts in a row of a process that ran less than a minute each time.
   */
  keepAlive(max = 8): this {
    this.restart = { max, inRow: 0 };
    return this;
  }

  /** Down for good: exited, and not about to be restarted. */
  get down(): boolean {
    return !this.running && this.restart?.timer === undefined;
  }

  /** Resolves once the process is spawned; rejects when it cannot be (e.g. the binary is missing). */
  start(): Promise<void> {
    const child = spawn(this.command, this.args, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    const started = Date.now();
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.tail.push(line);
        if (this.tail.length > TAIL_LINES) this.tail.shift();
        this.log(this.name, line);
      });
    }
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
    void this.exited.then((how) => this.restartAfter(how, Date.now() - started));
    return new Promise((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  }

  /** Its last output lines, oldest first. */
  lastLines(): string[] {
    return [...this.tail];
  }

  get running(): boolean {
    return this.child?.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  private restartAfter(how: number | string, ranMs: number): void {
    const r = this.restart;
    if (!r || this.stopping) return;
    r.inRow = ranMs >= STABLE_MS ? 1 : r.inRow + 1;
    if (r.inRow > r.max) {
      this.log(this.name, `exited with ${how}; not restarted (${r.max} restarts in a row)`);
      return;
    }
    const delay = Math.min(30_000, 1000 * 2 ** (r.inRow - 1));
    this.log(this.name, `exited with ${how}; restarting in ${delay / 1000} s`);
    r.timer = setTimeout(() => {
      r.timer = undefined;
      if (!this.stopping) this.start().catch((err: Error) => this.log(this.name, `restart failed: ${err.message}`));
    }, delay);
  }

  /** SIGTERM, then SIGKILL if the process has not exited after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restart?.timer);
    if (this.restart) this.restart.timer = undefined;
    if (!this.running) return;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Last resort, also used synchronously when the launcher itself exits. */
  kill(): void {
    this.stopping = true;
    clearTimeout(this.restart?.timer);
    if (this.running) this.child!.kill('SIGKILL');
  }
}
