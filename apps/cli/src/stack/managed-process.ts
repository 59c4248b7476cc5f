import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export type LogSink = (name: string, line: string) => void;

const TAIL_LINES = 20;

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

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: string[],
    private readonly log: LogSink,
    /** The whole environment of the child; the launcher's own when omitted. */
    private readonly env?: Record<string, string>,
  ) {}

  /** Resolves once the process is spawned; rejects when it cannot be (e.g. the binary is missing). */
  start(): Promise<void> {
    const child = spawn(this.command, this.args, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.tail.push(line);
        if (this.tail.length > TAIL_LINES) this.tail.shift();
        this.log(this.name, line);
      });
    }
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
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

  /** SIGTERM, then SIGKILL if the process has not exited after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Last resort, also used synchronously when the launcher itself exits. */
  kill(): void {
    if (this.running) this.child!.kill('SIGKILL');
  }
}
