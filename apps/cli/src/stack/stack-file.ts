import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from './stack';

/** What a running `stack` tells the other commands: where its API and Redis are, and the key it accepts. */
export interface StackFile {
  pid: number;
  apiUrl: string;
  apiKey?: string;
  redisUrl: string;
  /** Name -> URL of each worker's /metrics. */
  workerMetrics: Record<string, string>;
}

/** Next to the data of the redis-server the stack starts; removed when the stack stops. */
export const stackFilePath = (): string => join(repoRoot(), '.data', 'stack.json');

export function writeStackFile(file: StackFile): string {
  const path = stackFilePath();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 }); // it holds an API key
  return path;
}

export function removeStackFile(pid = process.pid): void {
  if (readStackFile()?.pid === pid) rmSync(stackFilePath(), { force: true });
}

/** The running stack's file; null when there is none, or when the stack that wrote it is gone (killed). */
export function readStackFile(): StackFile | null {
  let file: StackFile;
  try {
    file = JSON.parse(readFileSync(stackFilePath(), 'utf8')) as StackFile;
  } catch {
    return null;
  }
  return alive(file.pid) ? file : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, but is not ours to signal
  }
}
