import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { MemoryConfig } from '@app/memory';
import type { TenantRequest } from './tenant.decorator';

/** Resolves the tenant of every request. Without API keys configured, everything acts for DEFAULT_TENANT. */
@Injectable()
export class TenantGuard implements CanActivate {
  constructor(private readonly config: MemoryConfig) {}

  canActivate(ctx: ExecutionContext): boolean {
    ctx.switchToHttp().getRequest<TenantRequest>().tenant = this.config.DEFAULT_TENANT;
    return true;
  }
}
