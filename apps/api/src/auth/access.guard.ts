import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { TenantRequest } from '../common/tenant.decorator';
import { ROUTE_ACCESS, type RouteAccess } from './access.decorator';
import { AccessPolicy } from './access-policy';

/**
 * Checks every tenant route's request against its key, by the route's @Access declaration: the scope, then (a user
 * key) the user, session and memory named in the path, and the userId of the body or query (see
 * AccessPolicy.authorizeRequest; a turn write's body is checked so in the ingest thread, once parsed). A tenant
 * route that declares nothing is refused: a new route cannot be reachable by accident.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly policy: AccessPolicy,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const request = ctx.switchToHttp().getRequest<TenantRequest>();
    if (!request.grant) return true; // a public route: health, readiness, metrics, docs
    const access = this.reflector.getAllAndOverride<RouteAccess | undefined>(ROUTE_ACCESS, [ctx.getHandler(), ctx.getClass()]);
    if (!access) throw new Error(`${request.method} ${request.routeOptions.url} declares no @Access scope`);
    const source = access.userIn === 'body' ? request.body : access.userIn === 'query' ? request.query : undefined;
    await this.policy.authorizeRequest(request.grant, access.scope, request.params as Record<string, unknown>, source);
    return true;
  }
}
