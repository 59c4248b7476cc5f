import type { LogSink } from '../../../apps/cli/src/stack/managed-process';

/** Keeps the stack's last log lines, to show when a test fails, instead of printing them all. */
export class StackLogs {
  private readonly lines: string[] = [];
  readonly sink: LogSink = (name, line) => {
    this.lines.push(`[${name}] ${line}`);
    if (this.lines.length > 400) this.lines.shift();
  };

  tail(n = 40): string {
    return this.lines.slice(-n).join('\n');
  }

  /** Lines matching the pattern, e.g. to check what the processes logged about a fault. */
  grep(pattern: RegExp): string[] {
    return this.lines.filter((l) => pattern.test(l));
  }
}
