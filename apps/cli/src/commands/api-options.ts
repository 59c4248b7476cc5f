import { type Command, InvalidArgumentError, Option } from 'commander';
import { ApiClient } from '../http/api-client';

export interface ApiOptions {
  url: string;
  apiKey?: string;
}

/** --url and --api-key, shared by every command that talks to a running API. */
export const withApiOptions = (cmd: Command): Command =>
  cmd
    .addOption(new Option('--url <url>', 'base URL of the API').default('http://127.0.0.1:3000'))
    .addOption(new Option('--api-key <key>', 'sent as Authorization: Bearer <key>'));

export const clientFrom = (o: ApiOptions): ApiClient => new ApiClient({ url: o.url, apiKey: o.apiKey });

/** Commander's parser for integer options (>= 1, or >= 0 with `min`). */
export const intAtLeast = (min: number) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}, got "${value}"`);
  return n;
};
export const positiveInt = intAtLeast(1);
