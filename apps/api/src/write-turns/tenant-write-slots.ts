import { Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { MemoryConfig, Metrics } from '@app/memory';
import { LIMITS } from '../common/limits';
import { TenantBusyError } from '../common/tenant-busy.error';
import type { TenantRequest } from '../common/tenant.decorator';

/** The Fastify route config (see @RouteConfig) of routes whose large bodies take a tenant's bulk-write slot. */
export const BULK_WRITE_ROUTE = { bulkWrite: true } as const;

/**
 * Bounds each tenant's concurrent bulk writes (a body over LIMITS.bulkWriteBytes, or of unknown length) on this API
 * replica to TENANT_MAX_BULK_WRITES. Checked in an onRequest hook, after authentication and before the body is read:
 * a tenant past its bound gets 429 with Retry-After and costs no parsing; other tenants' writes are never counted
 * against it. A slot is freed when the response is finished or the connection closes, whichever comes first.
 */
@Injectable()
export class TenantWriteSlots {
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly config: MemoryConfig,
    private readonly metrics: Metrics,
  ) {}

  onRequest(request: TenantRequest, reply: FastifyReply): void {
    const tenant = request.tenant;
    if (!tenant || (request.routeOptions.config as Partial<typeof BULK_WRITE_ROUTE>).bulkWrite !== true) return;
    const length = Number(request.headers['content-length']);
    if (length <= LIMITS.bulkWriteBytes) return;
    const held = this.inFlight.get(tenant) ?? 0;
    if (held >= this.config.TENANT_MAX_BULK_WRITES) {
      this.metrics.countTenantShed(tenant, 'concurrent_writes');
      reply.header('Retry-After', '1').header('Connection', 'close');
      throw new TenantBusyError(`tenant ${tenant} has ${held} bulk writes in progress on this API replica (TENANT_MAX_BULK_WRITES ${this.config.TENANT_MAX_BULK_WRITES})`);
    }
    this.inFlight.set(tenant, held + 1);
    reply.raw.once('close', () => {
      const left = this.inFlight.get(tenant)! - 1;
      if (left === 0) this.inFlight.delete(tenant);
      else this.inFlight.set(tenant, left);
    });
  }
}
