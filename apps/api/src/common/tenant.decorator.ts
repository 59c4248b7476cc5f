import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

export type TenantRequest = FastifyRequest & { tenant?: string };

/** The tenant the request acts for, as resolved by the Authenticator (for tenant routes only: see isTenantRoute). */
export const Tenant = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  const tenant = ctx.switchToHttp().getRequest<TenantRequest>().tenant;
  if (!tenant) throw new Error('no tenant: only routes under /v1/ are authenticated');
  return tenant;
});
