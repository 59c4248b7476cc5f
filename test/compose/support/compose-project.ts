import { execFile } from 'node:child_process';
import { CommandError } from './command-error';

export interface ComposeContainer {
  id: string;
  /** e.g. agent-memory-e2e_embedder_2 */
  name: string;
  service: string;
  /** running, exited, ... */
  state: string;
  /** healthy, starting, unhealthy; empty without a healthcheck */
  health: string;
  /** Its address on the project's network (root on the host reaches it directly). */
  ip: string;
  image: string;
  restarts: number;
}

export interface ComposeProjectOptions {
  /** docker-compose's project name: its containers, volumes and networks carry it as a label. */
  name: string;
  /** The services to run: those of docker-compose.yml that have an image here. */
  services: string[];
  /** Variables docker-compose interpolates into docker-compose.yml, on top of the environment. */
  env: Record<string, string>;
  /** Read instead of `.env`, so a developer's settings do not change the run. */
  envFile: string;
}

interface Inspected {
  Id: string;
  Name: string;
  ImageName: string;
  RestartCount: number;
  State: { Status: string; Health?: { Status: string } };
  Config: { Labels: Record<string, string> };
  NetworkSettings: { Networks?: Record<string, { IPAddress: string }> };
}

interface Output {
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Output> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, maxBuffer: 64 << 20, timeout: 600_000 }, (err, stdout, stderr) => {
      if (err) reject(new CommandError([file, ...args].join(' '), err.code ?? err.signal ?? undefined, `${stderr}${stdout}`));
      else resolve({ stdout, stderr });
    });
  });
}

/**
 * One docker-compose project on podman: docker-compose for what users run, podman for what compose 1.29
 * cannot tell (health, addresses) or do (kill one replica, run healthchecks).
 */
export class ComposeProject {
  private readonly label: string;

  constructor(readonly options: ComposeProjectOptions) {
    this.label = `label=com.docker.compose.project=${options.name}`;
  }

  async compose(args: string[]): Promise<string> {
    const { name, envFile, env } = this.options;
    return (await run('docker-compose', ['-p', name, '--env-file', envFile, ...args], { ...process.env, ...env })).stdout;
  }

  async podman(args: string[]): Promise<string> {
    return (await run('podman', args)).stdout;
  }

  /** `up -d` with these replicas (one of every other service); docker-compose waits for healthy dependencies. */
  up(scale: Record<string, number>): Promise<string> {
    const flags = Object.entries(scale).flatMap(([service, n]) => ['--scale', `${service}=${n}`]);
    return this.compose(['up', '-d', '--no-recreate', ...flags, ...this.options.services]);
  }

  async containerIds(...filters: string[]): Promise<string[]> {
    const out = await this.podman(['ps', '-a', '-q', '--filter', this.label, ...filters.flatMap((f) => ['--filter', f])]);
    return out.split('\n').filter(Boolean);
  }

  async containers(): Promise<ComposeContainer[]> {
    const ids = await this.containerIds();
    if (ids.length === 0) return [];
    const inspected = JSON.parse(await this.podman(['container', 'inspect', ...ids])) as Inspected[];
    return inspected
      .map((c) => ({
        id: c.Id,
        name: c.Name,
        service: c.Config.Labels['com.docker.compose.service'],
        state: c.State.Status,
        health: c.State.Health?.Status ?? '',
        ip: Object.values(c.NetworkSettings.Networks ?? {})[0]?.IPAddress ?? '',
        image: c.ImageName,
        restarts: c.RestartCount,
      }))
      .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  }

  async kill(container: ComposeContainer): Promise<void> {
    await this.podman(['kill', '--signal', 'KILL', container.id]);
  }

  /** Each container's last lines of output (stdout and stderr), to explain a failure. */
  async logTail(lines = 25): Promise<string> {
    const parts: string[] = [];
    for (const c of await this.containers()) {
      const logs = await run('podman', ['logs', '--tail', String(lines), c.id]).catch((err: Error) => ({ stdout: err.message, stderr: '' }));
      parts.push(`--- ${c.name} (${c.state}${c.health ? `, ${c.health}` : ''}) ---\n${logs.stdout}${logs.stderr}`.trimEnd());
    }
    return parts.join('\n');
  }

  down(): Promise<string> {
    return this.compose(['down', '-v', '--remove-orphans']);
  }

  /** What `down -v` must remove: the project's containers, volumes and networks that still exist. */
  async leftovers(): Promise<string[]> {
    const list = async (kind: string, format: string) =>
      (await this.podman([kind, 'ls', '--filter', this.label, '--format', format])).split('\n').filter(Boolean).map((n) => `${kind} ${n}`);
    return [
      ...(await this.containerIds()).map((id) => `container ${id}`),
      ...(await list('volume', '{{.Name}}')),
      ...(await list('network', '{{.Name}}')),
    ];
  }
}
