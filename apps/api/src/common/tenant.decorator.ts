import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { ApiKeyGrant } from '@app/memory';

/** A request to a tenant route, once the Authenticator has resolved its key: the tenant and the key's grant. */
export type TenantRequest = FastifyRequest & { tenant?: string; grant?: ApiKeyGrant };

const grantOf = (ctx: ExecutionContext): ApiKeyGrant => {
  const grant = ctx.switchToHttp().getRequest<TenantRequest>().grant;
  if (!grant) throw new Error('no tenant: only routes under /v1/ are authenticated');
  return grant;
};

/** The tenant the request acts for, as resolved by the Authenticator (for tenant routes only: see isTenantRoute). */
export const Tenant = createParamDecorator((_: unknown, ctx: ExecutionContext): string => grantOf(ctx).tenant);

/** The grant of the request's key: tenant, user (a user key) and scopes. */
export const Grant = createParamDecorator((_: unknown, ctx: ExecutionContext): ApiKeyGrant => grantOf(ctx));
