import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../apps/cli/src/stack/stack';
import { CLIENT_TYPES_FILE, clientTypes } from './client-types';

/**
 * npm run client:generate [-- <API URL>]: regenerates the client's types from the OpenAPI document of a running API
 * (the URL given, else AGENT_MEMORY_URL, else http://127.0.0.1:3000; `npm run stack` starts one).
 */
async function main(): Promise<void> {
  const url = (process.argv[2] ?? process.env.AGENT_MEMORY_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  const res = await fetch(`${url}/docs-json`);
  if (!res.ok) throw new Error(`GET ${url}/docs-json answered ${res.status}`);
  writeFileSync(join(repoRoot(), CLIENT_TYPES_FILE), await clientTypes((await res.json()) as object));
  console.log(`wrote ${CLIENT_TYPES_FILE} from ${url}/docs-json`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
