import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../apps/cli/src/stack/free-port';
import { type LocalCluster, startLocalCluster } from '../../apps/cli/src/stack/local-cluster';

/**
 * A port that freePort() found free can be taken before redis-server binds it (by another process's listener, or, when
 * it came from the ephemeral range, by an outgoing connection): that node's redis-server exits at once. CI once failed
 * there, the cluster's start waiting 10 s for a node that was gone. Here the first port handed out is held by another
 * listener.
 */
describe('a local cluster whose node finds its port taken', () => {
  let held: Server;
  let cluster: LocalCluster | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'agent-memory-local-cluster-'));

  beforeAll(async () => {
    held = createServer();
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await cluster?.stop();
    held.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts that node on other ports and forms the cluster', async () => {
    const takenPort = (held.address() as { port: number }).port;
    let handedOut = 0;
    const ports = async () => (handedOut++ === 0 ? takenPort : freePort());
    const lines: string[] = [];
    cluster = await startLocalCluster({ masters: 3, replicas: 0, dir, ports, log: (name, line) => lines.push(`[${name}] ${line}`) });

    expect(cluster.nodes).toHaveLength(3);
    expect(cluster.nodes.map((n) => n.port)).not.toContain(takenPort);
    expect(lines.join('\n')).toMatch(new RegExp(`\\[redis-${takenPort}\\].*(Address already in use|Could not create server)`));
    const client = cluster.node(cluster.nodes[0].port);
    try {
      expect(String(await client.cluster('INFO'))).toMatch(/cluster_state:ok/);
    } finally {
      client.disconnect();
    }
  });
});
