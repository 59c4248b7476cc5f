import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import calculateSlot from 'cluster-key-slot';
import { connectRedis, type RedisClient, redisEndpoint } from '@app/memory/redis/redis-endpoint';
import { type LocalCluster, startLocalCluster, until } from '../../apps/cli/src/stack/local-cluster';
import type { TestRedis } from './test-redis';

export interface ClusterNodeInfo {
  id: string;
  port: number;
  role: 'master' | 'replica';
  /** A replica's master. */
  masterId?: string;
  /** Slot ranges served (masters). */
  slots: [number, number][];
  failed: boolean;
}

/** CLUSTER NODES, parsed. */
function parseNodes(text: string): ClusterNodeInfo[] {
  return text.trim().split('\n').map((line) => {
    const [id, address, flags, master, , , , , ...slots] = line.split(' ');
    return {
      id,
      port: Number(address.split('@')[0].split(':').at(-1)),
      role: flags.includes('master') ? 'master' : 'replica',
      masterId: master === '-' ? undefined : master,
      slots: slots.filter((s) => !s.startsWith('[')).map((s) => s.split('-').map(Number)).map(([a, b]) => [a, b ?? a]),
      failed: flags.split(',').some((f) => f === 'fail' || f === 'fail?'),
    };
  });
}

/**
 * A private Redis Cluster for one suite: 3 masters and 3 replicas of Debian's redis-server on free ports (made with
 * `redis-cli --cluster create --cluster-replicas 1`), no persistence, and a 1 s node timeout so that a killed
 * master's replica takes over within a few seconds. Faults for the reliability suites: kill a master, move a slot.
 */
export class RedisCluster implements TestRedis {
  readonly kind = 'cluster';
  readonly dir = mkdtempSync(join(tmpdir(), 'agent-memory-cluster-'));
  private cluster?: LocalCluster;
  /** The start in progress: a suite whose hook timed out still stops the nodes it goes on to start. */
  private starting?: Promise<LocalCluster>;
  private readonly lines: string[] = [];

  constructor(private readonly options: { masters?: number; replicas?: number; nodeTimeoutMs?: number } = {}) {}

  async start(): Promise<this> {
    this.starting = startLocalCluster({
      masters: this.options.masters ?? 3,
      replicas: this.options.replicas ?? 1,
      nodeTimeoutMs: this.options.nodeTimeoutMs ?? 1000,
      dir: this.dir,
      log: (name, line) => {
        this.lines.push(`[${name}] ${line}`);
        if (this.lines.length > 200) this.lines.shift();
      },
    });
    this.cluster = await this.starting;
    await until('every replica is in sync with its master', () => this.replicasInSync(), 30_000);
    return this;
  }

  get seedNodes(): string {
    return this.cluster!.seedNodes;
  }

  get env(): Record<string, string> {
    return { REDIS_CLUSTER_NODES: this.seedNodes };
  }

  client(): RedisClient {
    return connectRedis(redisEndpoint({ REDIS_URL: '', REDIS_CLUSTER_NODES: this.seedNodes }), { maxRetriesPerRequest: 1 });
  }

  /** The last lines the nodes logged (failover and migration messages), for failing tests. */
  tail(n = 40): string {
    return this.lines.slice(-n).join('\n');
  }

  /** The cluster as a live node sees it. */
  async topology(): Promise<ClusterNodeInfo[]> {
    for (const { port, process } of this.cluster!.nodes) {
      if (!process.running) continue;
      const client = this.cluster!.node(port);
      try {
        return parseNodes(String(await client.cluster('NODES')));
      } catch {
        // ask the next one
      } finally {
        client.disconnect();
      }
    }
    throw new Error('no cluster node answers');
  }

  /** The master serving the slot of `key` (a hash tag such as `{rel:s1}` is enough), in `topology` or now. */
  async masterOf(key: string, topology?: ClusterNodeInfo[]): Promise<ClusterNodeInfo> {
    const slot = calculateSlot(key);
    const master = (topology ?? (await this.topology())).find((n) => n.role === 'master' && !n.failed && n.slots.some(([a, b]) => slot >= a && slot <= b));
    if (!master) throw new Error(`no master serves slot ${slot}`);
    return master;
  }

  /** Session ids `${stem}-N`, one served by each master of `masters`, in that order. */
  async sessionsOn(tenant: string, stem: string, masters: ClusterNodeInfo[]): Promise<string[]> {
    const topology = await this.topology();
    const sessions: string[] = [];
    for (const master of masters) {
      let i = 0;
      while ((await this.masterOf(`{${tenant}:${stem}-${i}}`, topology)).id !== master.id) i++;
      sessions.push(`${stem}-${i}`);
    }
    return sessions;
  }

  /**
   * SIGKILLs a master (no shutdown, no last replication), then waits until its replica serves its slots and every
   * live node reports cluster_state:ok. Resolves with the promoted replica, when the kill was sent (epoch ms) and how
   * long the promotion took.
   */
  async killMaster(port: number): Promise<{ promoted: ClusterNodeInfo; ms: number; killedAt: number }> {
    const before = await this.topology();
    const victim = before.find((n) => n.port === port && n.role === 'master')!;
    const replica = before.find((n) => n.masterId === victim.id)!;
    const killedAt = Date.now();
    this.cluster!.nodes.find((n) => n.port === port)!.process.kill();
    let promoted: ClusterNodeInfo | undefined;
    await until(`replica ${replica.port} takes over from ${port}`, async () => {
      promoted = (await this.topology()).find((n) => n.id === replica.id && n.role === 'master' && n.slots.length > 0);
      return promoted !== undefined && (await this.allOk());
    }, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.tail()}`);
    });
    return { promoted: promoted!, ms: Date.now() - killedAt, killedAt };
  }

  /**
   * Moves one slot from one master to another the way `redis-cli --cluster reshard` does (SETSLOT IMPORTING on the
   * target, MIGRATING on the source, MIGRATE in batches of keys, SETSLOT NODE on every master), but holds the slot in the
   * migrating state until `whileMigrating` resolves: while it is held, the source answers a write of a new key with
   * ASK and a script over new and existing keys with TRYAGAIN, whatever the load; once moved, its old keys with MOVED.
   */
  async migrateSlot(slot: number, fromId: string, toId: string, whileMigrating: () => Promise<void>): Promise<void> {
    const masters = (await this.topology()).filter((n) => n.role === 'master' && !n.failed);
    const [source, target] = [fromId, toId].map((id) => masters.find((n) => n.id === id)!);
    const [from, to] = [source, target].map((n) => this.cluster!.node(n.port));
    try {
      await to.cluster('SETSLOT', slot, 'IMPORTING', fromId);
      await from.cluster('SETSLOT', slot, 'MIGRATING', toId);
      await whileMigrating();
      for (;;) {
        const keys = (await from.cluster('GETKEYSINSLOT', slot, 100)) as string[];
        if (keys.length === 0) break;
        await from.migrate('127.0.0.1', target.port, '', 0, 5000, 'KEYS', ...keys);
      }
      // The target first, so that the source's MOVED never points at a node that does not yet own the slot.
      for (const n of [target, source, ...masters.filter((m) => m !== source && m !== target)]) {
        const client = this.cluster!.node(n.port);
        try {
          await client.cluster('SETSLOT', slot, 'NODE', toId);
        } finally {
          client.disconnect();
        }
      }
    } finally {
      from.disconnect();
      to.disconnect();
    }
  }

  /** INFO errorstats of a node: how many of each error it answered (MOVED, ASK, TRYAGAIN, ...). */
  async errorStats(port: number): Promise<Record<string, number>> {
    const client = this.cluster!.node(port);
    try {
      const text = await client.info('errorstats');
      return Object.fromEntries([...text.matchAll(/^errorstat_(\w+):count=(\d+)/gm)].map(([, name, n]) => [name, Number(n)]));
    } finally {
      client.disconnect();
    }
  }

  async stop(): Promise<void> {
    await (await this.starting?.catch(() => undefined))?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async allOk(): Promise<boolean> {
    const live = this.cluster!.nodes.filter((n) => n.process.running);
    const states = await Promise.all(live.map(async ({ port }) => {
      const client = this.cluster!.node(port);
      try {
        return /cluster_state:ok/.test(String(await client.cluster('INFO')));
      } finally {
        client.disconnect();
      }
    }));
    return states.every(Boolean);
  }

  private async replicasInSync(): Promise<boolean> {
    const replicas = (await this.topology()).filter((n) => n.role === 'replica');
    const links = await Promise.all(replicas.map(async ({ port }) => {
      const client = this.cluster!.node(port);
      try {
        return /master_link_status:up/.test(await client.info('replication'));
      } finally {
        client.disconnect();
      }
    }));
    return links.length === (this.options.masters ?? 3) * (this.options.replicas ?? 1) && links.every(Boolean);
  }
}
