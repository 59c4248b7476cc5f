import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Sets the calling thread's nice value. On Linux, setpriority on a thread id renices that thread alone (a worker
 * thread gives way to its process's event loop); elsewhere there is no thread-self and the thread keeps the process's
 * priority.
 */
export function niceThisThread(nice: number): void {
  if (process.platform === 'linux') setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), nice);
}
