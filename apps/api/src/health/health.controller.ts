import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type Redis from 'ioredis';
import { QUEUES } from '@app/memory';
import { REDIS } from '@app/memory/nest/tokens';
import { JobGateway } from '../common/job-gateway';

/** Public, as every route outside /v1/ is: probes carry no key. */
@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly jobs: JobGateway,
  ) {}

  @Get('healthz')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  health() {
    return { status: 'ok' };
  }

  @Get('readyz')
  @ApiOperation({ summary: 'Readiness: Redis answers, both queues are ready and each has a worker' })
  async ready() {
    const checks: Record<string, string> = {};
    try {
      await this.redis.ping();
      checks.redis = 'ok';
      for (const name of Object.values(QUEUES)) {
        const workers = await this.jobs.queue(name).getWorkersCount();
        checks[`${name}Workers`] = workers > 0 ? `ok (${workers})` : 'none';
      }
    } catch (err) {
      checks.redis = `unreachable: ${(err as Error).message}`;
    }
    const ok = Object.values(checks).every((c) => c.startsWith('ok'));
    if (!ok) throw new ServiceUnavailableException({ statusCode: 503, message: 'not ready', checks });
    return { status: 'ready', checks };
  }
}
