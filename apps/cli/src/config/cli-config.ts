import { processEnv, validateEnvironment } from '@app/memory/config/load-config';
import { IsNotEmpty, IsOptional, IsString, IsUrl } from 'class-validator';
import { readStackFile, type StackFile, stackFilePath } from '../stack/stack-file';

/** The CLI's own variables, from the environment and `.env`, validated like the services' (see load-config.ts). */
export class CliEnvironment {
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  AGENT_MEMORY_URL?: string;

  @IsOptional()
  @IsString()
  @IsNotEmpty()
  AGENT_MEMORY_API_KEY?: string;

  /** Read by `keys` only, and only when set: the CLI never assumes a Redis. */
  @IsOptional()
  @IsUrl({ protocols: ['redis', 'rediss'], require_tld: false, require_protocol: true })
  REDIS_URL?: string;
}

const KNOWN: ReadonlySet<string> = new Set(['AGENT_MEMORY_URL', 'AGENT_MEMORY_API_KEY', 'REDIS_URL']);
export const DEFAULT_API_URL = 'http://127.0.0.1:3000';

let cached: CliEnvironment | undefined;
export const cliEnvironment = (): CliEnvironment => (cached ??= validateEnvironment(CliEnvironment, processEnv(), KNOWN));

export interface ApiTarget {
  url: string;
  apiKey?: string;
  /** The running local stack, when the URL is its API. */
  stack?: StackFile;
}

/**
 * The API to talk to: --url, else AGENT_MEMORY_URL, else the stack running from this checkout (its
 * .data/stack.json), else the default. The key: --api-key, else AGENT_MEMORY_API_KEY, else the stack's own
 * key when the URL is the stack's.
 */
export function resolveApi(flags: { url?: string; apiKey?: string }, env = cliEnvironment(), stack: StackFile | null = readStackFile()): ApiTarget {
  const url = flags.url ?? env.AGENT_MEMORY_URL ?? stack?.apiUrl ?? DEFAULT_API_URL;
  const own = stack && sameOrigin(stack.apiUrl, url) ? stack : undefined;
  return { url, apiKey: flags.apiKey ?? env.AGENT_MEMORY_API_KEY ?? own?.apiKey, stack: own };
}

/** The Redis that `keys` works on: --redis-url, else REDIS_URL, else the running stack's; never a guess. */
export function resolveRedisUrl(flag: string | undefined, env = cliEnvironment(), stack: StackFile | null = readStackFile()): { url: string; source: string } {
  if (flag) return { url: flag, source: '--redis-url' };
  if (env.REDIS_URL) return { url: env.REDIS_URL, source: 'REDIS_URL' };
  if (stack) return { url: stack.redisUrl, source: `the running stack, pid ${stack.pid}` };
  throw new Error('which Redis? Pass --redis-url, set REDIS_URL, or start the stack (npm run stack) and run this again');
}

/** What to tell someone whose request to `url` could not connect: is a local stack up, and where. */
export function unreachableHint(url: string, stack: StackFile | null = readStackFile()): string {
  if (!stack) return `no local stack is running (no ${stackFilePath()}): start one with \`npm run stack\`, or point --url / AGENT_MEMORY_URL at a running API`;
  if (sameOrigin(stack.apiUrl, url)) return `the local stack (pid ${stack.pid}) is running, but its API does not answer: see the stack's log`;
  return `the local stack (pid ${stack.pid}) is up, at ${stack.apiUrl}: --url or AGENT_MEMORY_URL points elsewhere`;
}

const sameOrigin = (a: string, b: string): boolean => {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
};
