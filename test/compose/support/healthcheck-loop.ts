import type { ComposeProject } from './compose-project';

/**
 * Runs the healthcheck of every running container of the project, over and over. Podman schedules healthchecks
 * with systemd timers; without systemd (as here) none ever runs, every container stays "starting", and
 * docker-compose waits forever on `depends_on: condition: service_healthy`.
 */
export class HealthcheckLoop {
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly project: ComposeProject,
    private readonly intervalMs = 3000,
  ) {}

  start(): void {
    this.stopped = false;
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const ids = await this.project.containerIds('status=running').catch(() => []);
      // The outcome is recorded in the container's state, where the test reads it: an unhealthy result (exit 1) or a
      // container that stopped meanwhile is not the loop's business.
      await Promise.all(ids.map((id) => this.project.podman(['healthcheck', 'run', id]).catch(() => undefined)));
      await new Promise((r) => setTimeout(r, this.intervalMs));
    }
  }
}
