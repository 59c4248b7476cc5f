import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { freePort } from './free-port';
import { type LogSink, ManagedProcess } from './managed-process';
import { StackError } from './stack-error';
import { redisPersistenceArgs } from './redis-persistence';

const run = promisify(execFile);

export interface LocalClusterOptions {
  masters: number;
  /** Replicas per master (redis-cli --cluster-replicas). */
  replicas: number;
  dir: string;
  log: LogSink;
  /** cluster-node-timeout: how long a master may be unreachable before its replica is promoted. */
  nodeTimeoutMs?: number;
  /** AOF on every node, or no persistence at all (tests and benchmarks). */
  persist?: boolean;
  /** Where ports come from: freePort, or a test's source that hands out a taken one. */
  ports?: () => Promise<number>;
}

export interface LocalClusterNode {
  port: number;
  process: ManagedProcess;
}

const HOST = '127.0.0.1';

/** A Redis Cluster of redis-server processes on this machine, made with `redis-cli --cluster create`. */
export class LocalCluster {
  constructor(readonly nodes: LocalClusterNode[]) {}

  /** REDIS_CLUSTER_NODES for this cluster: every node, so clients find it whichever node is down. */
  get seedNodes(): string {
    return this.nodes.map((n) => `${HOST}:${n.port}`).join(',');
  }

  /**
   * A plain connection to one node (for CLUSTER and INFO commands); its failures surface through the commands, which
   * a listener that never answers (a port taken by another program) fails after 2 s.
   */
  node(port: number): Redis {
    const client = new Redis({ host: HOST, port, maxRetriesPerRequest: 1, retryStrategy: () => null, commandTimeout: 2_000 });
    client.on('error', () => undefined);
    return client;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.process.stop()));
  }
}

/** Polls `check` every 100 ms until it holds, or throws `what` after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new StackError(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether every node reports cluster_state:ok and knows `size` nodes (so a client can start from any of them). */
export async function clusterSettled(cluster: LocalCluster, ports: number[], size: number): Promise<boolean> {
  const views = await Promise.all(
    ports.map(async (port) => {
      const client = cluster.node(port);
      try {
        const [info, nodes] = await Promise.all([client.cluster('INFO'), client.cluster('NODES')]);
        return /cluster_state:ok/.test(String(info)) && String(nodes).trim().split('\n').length === size;
      } finally {
        client.disconnect();
      }
    }),
  );
  return views.every(Boolean);
}

/** Attempts at starting one node: each on ports picked anew. */
const NODE_ATTEMPTS = 3;

/**
 * One cluster-enabled redis-server, answering PING. A port free when picked can be taken before redis-server binds
 * it (by any process's outgoing connection: both come from the ephemeral range), and redis-server then exits at
 * once: it is started again on other ports.
 */
async function startNode(o: LocalClusterOptions): Promise<LocalClusterNode> {
  const pick = o.ports ?? freePort;
  for (let attempt = 1; ; attempt++) {
    const [port, busPort] = [await pick(), await pick()];
    const dir = resolve(join(o.dir, `node-${port}`));
    mkdirSync(dir, { recursive: true });
    const args = [
      '--port', String(port), '--cluster-port', String(busPort), '--bind', HOST, '--dir', dir,
      '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(o.nodeTimeoutMs ?? 5000),
      ...redisPersistenceArgs(o.persist),
    ];
    const proc = new ManagedProcess(`redis-${port}`, 'redis-server', args, o.log);
    await proc.start().catch((err: Error) => {
      throw new StackError(`redis-server could not be started (${err.message})`);
    });
    const node = { port, process: proc };
    const answers = async () => {
      const client = new LocalCluster([node]).node(port);
      try {
        return (await client.ping()) === 'PONG';
      } finally {
        client.disconnect();
      }
    };
    await until(`redis-server on port ${port} answers or exits`, async () => !proc.running || (await answers()), 10_000).catch(async (err) => {
      await proc.stop();
      throw err;
    });
    if (proc.running) return node;
    // a start that failed for another reason fails again: say why after the last attempt
    if (attempt === NODE_ATTEMPTS) throw new StackError(`redis-server exited at start ${attempt} times; last: ${proc.lastLines().at(-1) ?? 'no output'}`);
  }
}

/**
 * Starts masters × (1 + replicas) redis-server processes with cluster-enabled yes on free ports (client and bus
 * port each), joins them with `redis-cli --cluster create`, and waits until every node sees a healthy cluster.
 */
export async function startLocalCluster(o: LocalClusterOptions): Promise<LocalCluster> {
  const count = o.masters * (1 + o.replicas);
  const nodes: LocalClusterNode[] = [];
  const cluster = new LocalCluster(nodes);
  try {
    for (let i = 0; i < count; i++) nodes.push(await startNode(o));
    const ports = nodes.map((n) => n.port);
    // redis-cli waits for the join without a limit: a node whose bus port could not be bound would hang it forever
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `${HOST}:${p}`), '--cluster-replicas', String(o.replicas), '--cluster-yes'], { timeout: 60_000 });
    await until('every node sees the cluster as ok', () => clusterSettled(cluster, ports, count), 30_000);
    return cluster;
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}
