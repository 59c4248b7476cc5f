import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { TenantRequest } from '../common/tenant.decorator';
import { ROUTE_ACCESS, type RouteAccess } from './access.decorator';
import { AccessPolicy } from './access-policy';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Checks every tenant route's request against its key, by the route's @Access declaration: the scope, then (a user
 * key) the user, session and memory named in the path, and the userId of the body or query. A user key's request
 * without a userId gets the key's user there, so its writes are its user's and its searches and listings stay
 * inside its user. A tenant route that declares nothing is refused: a new route cannot be reachable by accident.
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
    const params = request.params as Record<string, unknown>;
    const source = access.userIn === 'body' ? request.body : access.userIn === 'query' ? request.query : undefined;
    const fields = isObject(source) ? source : undefined;
    const user = await this.policy.authorize(request.grant, access.scope, { ...params, userId: params.userId ?? fields?.userId });
    if (fields && fields.userId === undefined && user !== undefined) fields.userId = user;
    return true;
  }
}
