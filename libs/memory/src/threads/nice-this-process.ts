import { readFileSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Sets this process's nice value, and, when it leads a session of its own on Linux, its autogroup's. With autogroups
 * on (most distributions' default), the scheduler shares the CPU between sessions first and only then by nice value
 * within a session: a process in a session of its own (each child of the stack, a container's process) kept its full
 * share whatever its nice value. A process that shares its session leaves the group alone: its nice value would reach
 * every process of the session (a shell's API too). Threads started later (libuv's pool) take the nice value.
 */
export function niceThisProcess(nice: number): void {
  setPriority(nice);
  if (process.platform !== 'linux' || !leadsItsSession()) return;
  try {
    writeFileSync('/proc/self/autogroup', String(nice));
  } catch (err) {
    // a kernel built without autogroups has no such file, and no such sharing; any other refusal is worth a line
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') process.emitWarning(`nice ${nice} not set on this session's autogroup: ${(err as Error).message}`);
  }
}

/** /proc/self/stat: "pid (comm) state ppid pgrp session ...", comm may hold spaces and parentheses. */
function leadsItsSession(): boolean {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const session = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
  return session === process.pid;
}
