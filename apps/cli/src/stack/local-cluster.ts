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

  /** A plain connection to one node (for CLUSTER and INFO commands); its failures surface through the commands. */
  node(port: number): Redis {
    const client = new Redis({ host: HOST, port, maxRetriesPerRequest: 1, retryStrategy: () => null });
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

/**
 * Starts masters × (1 + replicas) redis-server processes with cluster-enabled yes on free ports (client and bus
 * port each), joins them with `redis-cli --cluster create`, and waits until every node sees a healthy cluster.
 */
export async function startLocalCluster(o: LocalClusterOptions): Promise<LocalCluster> {
  const count = o.masters * (1 + o.replicas);
  const nodes: LocalClusterNode[] = [];
  const cluster = new LocalCluster(nodes);
  try {
    for (let i = 0; i < count; i++) {
      const [port, busPort] = [await freePort(), await freePort()];
      const dir = resolve(join(o.dir, `node-${port}`));
      mkdirSync(dir, { recursive: true });
      const args = [
        '--port', String(port), '--cluster-port', String(busPort), '--bind', HOST, '--dir', dir,
        '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(o.nodeTimeoutMs ?? 5000),
        ...redisPersistenceArgs(o.persist),
      ];
      const proc = new ManagedProcess(`redis-${port}`, 'redis-server', args, o.log);
      nodes.push({ port, process: proc });
      await proc.start().catch((err: Error) => {
        throw new StackError(`redis-server could not be started (${err.message})`);
      });
    }
    const ports = nodes.map((n) => n.port);
    await until('every redis-server answers', async () => {
      await Promise.all(ports.map(async (port) => {
        const client = cluster.node(port);
        try {
          await client.ping();
        } finally {
          client.disconnect();
        }
      }));
      return true;
    }, 10_000);
    // redis-cli waits for the join without a limit: a node whose bus port could not be bound would hang it forever
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `${HOST}:${p}`), '--cluster-replicas', String(o.replicas), '--cluster-yes'], { timeout: 60_000 });
    await until('every node sees the cluster as ok', () => clusterSettled(cluster, ports, count), 30_000);
    return cluster;
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}
