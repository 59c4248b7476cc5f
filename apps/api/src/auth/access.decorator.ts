import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { KeyScope } from '@app/memory';

/** What a route declares: the scope it needs and, where it takes an optional userId, where that is. */
export interface RouteAccess {
  scope: KeyScope;
  /** Where the route reads an optional `userId`: a user key's requests without one get the key's user there. */
  userIn?: 'body' | 'query';
}

export const ROUTE_ACCESS = 'route-access';

/**
 * Declares what a /v1 route (or /mcp) needs of an API key; the AccessGuard refuses a tenant route without it. Also
 * shown in the OpenAPI document as `x-required-scope`, which the tests read to check that every route declares one.
 */
export const Access = (scope: KeyScope, userIn?: RouteAccess['userIn']) =>
  applyDecorators(SetMetadata(ROUTE_ACCESS, { scope, userIn } satisfies RouteAccess), ApiExtension('x-required-scope', scope));
