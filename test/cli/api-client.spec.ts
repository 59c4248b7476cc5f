import { ApiClient } from '../../apps/cli/src/http/api-client';
import { ApiUnreachableError } from '../../apps/cli/src/http/api-unreachable.error';
import { freePort } from '../support/redis-server';

describe('ApiClient with nothing listening', () => {
  it('is not ready, and names the URL it could not reach (in any realm: jest\'s TypeError is not undici\'s)', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const client = new ApiClient({ url });
    expect(await client.ready()).toBe(false);
    const err = await client.chat('s', 'hello').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect((err as Error).message).toBe(`cannot reach the API at ${url} (ECONNREFUSED)`);
  });
});
