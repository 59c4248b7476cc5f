import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freePort } from '../../apps/cli/src/stack/free-port';

/**
 * freePort() hands out the ports every test server, cluster node and stack process listens on. A port from bind(0)
 * lies in the ephemeral range, where outgoing connections take theirs: one could take it before its server bound it.
 */
describe('freePort', () => {
  it('hands out distinct ports below the ephemeral range, each free to listen on', async () => {
    const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    const ports: number[] = [];
    for (let i = 0; i < 50; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(50);
    expect(ports.filter((p) => p < 10_000 || p >= ephemeralLow)).toEqual([]);
    const srv = createServer();
    await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(ports[0], '127.0.0.1', resolve));
    srv.close();
  });
});
