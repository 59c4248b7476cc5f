import { type Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_API_URL, resolveApi } from '../config/cli-config';
import { ApiClient } from '../http/api-client';

export interface ApiOptions {
  url?: string;
  apiKey?: string;
}

/** --url and --api-key, shared by every command that talks to a running API. */
export const withApiOptions = (cmd: Command): Command =>
  cmd
    .addOption(new Option('--url <url>', `base URL of the API (default: AGENT_MEMORY_URL, else the running \`npm run stack\`, else ${DEFAULT_API_URL})`))
    .addOption(new Option('--api-key <key>', 'sent as Authorization: Bearer <key> (default: AGENT_MEMORY_API_KEY, else the running stack\'s key)'));

export const clientFrom = (o: ApiOptions): ApiClient => new ApiClient(resolveApi(o));

/** Commander's parser for comma-separated lists. */
export const list = (value: string): string[] => value.split(',').map((v) => v.trim()).filter(Boolean);

/** Commander's parser for integer options (>= 1, or >= 0 with `min`). */
export const intAtLeast = (min: number) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}, got "${value}"`);
  return n;
};
export const positiveInt = intAtLeast(1);
