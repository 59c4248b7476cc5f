import { ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';

const IS_PUBLIC = 'agent-memory:public';

/** Routes that need no API key, are not rate-limited and are never shed: health and metrics. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

export const isPublic = (reflector: Reflector, ctx: ExecutionContext): boolean =>
  reflector.getAllAndOverride<boolean>(IS_PUBLIC, [ctx.getHandler(), ctx.getClass()]) === true;
