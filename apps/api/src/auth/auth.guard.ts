import { CanActivate, ExecutionContext, ForbiddenException, Injectable, Logger, OnModuleInit, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiKeyStore, MemoryConfig } from '@app/memory';
import { isPublic } from '@app/memory/nest/public.decorator';
import type { TenantRequest } from '../common/tenant.decorator';

/**
 * Resolves the tenant of every /v1 request from its Bearer key (401 when missing or unknown).
 * A request that names a tenant in `X-Tenant-Id` must name the key's own (403 otherwise).
 */
@Injectable()
export class AuthGuard implements CanActivate, OnModuleInit {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly config: MemoryConfig,
    private readonly apiKeys: ApiKeyStore,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    if (this.config.AUTH_MODE === 'none') {
      this.logger.warn(`AUTH_MODE=none: NO AUTHENTICATION. Every request acts for tenant "${this.config.DEFAULT_TENANT}". Local demo only.`);
    } else {
      this.logger.log(`API keys required (${this.apiKeys.configuredCount} from API_KEYS, more may be issued into Redis)`);
    }
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (isPublic(this.reflector, ctx)) return true;
    const request = ctx.switchToHttp().getRequest<TenantRequest>();
    request.tenant = this.config.AUTH_MODE === 'none' ? this.config.DEFAULT_TENANT : await this.authenticate(request);
    const named = request.headers['x-tenant-id'];
    if (named !== undefined && named !== request.tenant) {
      throw new ForbiddenException('this API key does not belong to the tenant named in X-Tenant-Id');
    }
    return true;
  }

  private async authenticate(request: TenantRequest): Promise<string> {
    const [scheme, key] = (request.headers.authorization ?? '').split(' ');
    if (scheme !== 'Bearer' || !key) throw new UnauthorizedException('missing API key: send Authorization: Bearer <key>');
    const tenant = await this.apiKeys.tenantOf(key);
    if (!tenant) throw new UnauthorizedException('unknown API key');
    return tenant;
  }
}
