import { ForbiddenException, HttpException, HttpStatus, Injectable, Logger, OnModuleInit, UnauthorizedException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { LRUCache } from 'lru-cache';
import { type ApiKeyGrant, ApiKeyStore, KEY_SCOPES, MemoryConfig } from '@app/memory';
import type { TenantRequest } from '../common/tenant.decorator';

/** The routes that act for a tenant and need a key (the REST API and the MCP server); the others (health, readiness, metrics, docs) are public. */
export const isTenantRoute = (url: string | undefined): boolean => url !== undefined && (url.startsWith('/v1/') || url === '/mcp');
/** RFC 7235: the scheme is case-insensitive. */
const BEARER = /^bearer +(\S+) *$/i;
const FAILURE_WINDOW_MS = 60_000;

/**
 * Resolves the tenant of every request to a tenant route from its Bearer key, in Fastify's onRequest hook: before
 * the body is read, so a client without a valid key is answered from its headers alone and its connection closed,
 * its body never buffered (401 when the key is missing or unknown; 403 when `X-Tenant-Id` names another tenant).
 * The key's grant (user, scopes) is kept on the request for the AccessGuard, which checks it against the route.
 * The key is always checked first: a valid key is never refused for what others sent from the same address (a NAT,
 * a proxy). Failed attempts are counted per client address as they are answered; past AUTH_FAILURES_PER_MINUTE a
 * failure is a 429 with Retry-After instead of a 401, so however many guesses are in flight at once, no more than
 * the limit get a 401 in a window.
 */
@Injectable()
export class Authenticator implements OnModuleInit {
  private readonly logger = new Logger('Auth');
  /** Failed attempts per client address, in a window that starts with the first one. */
  private readonly failures = new LRUCache<string, number>({ max: 100_000, ttl: FAILURE_WINDOW_MS });

  constructor(
    private readonly config: MemoryConfig,
    private readonly apiKeys: ApiKeyStore,
  ) {}

  onModuleInit(): void {
    if (this.config.AUTH_MODE === 'none') {
      this.logger.warn(`AUTH_MODE=none: NO AUTHENTICATION. Every request acts for tenant "${this.config.DEFAULT_TENANT}". Local demo only.`);
    } else {
      this.logger.log(`API keys required (${this.apiKeys.configuredCount} from API_KEYS, more may be issued into Redis)`);
    }
  }

  /** The onRequest hook; a refusal closes the connection instead of reading the rest of the request. */
  async onRequest(request: TenantRequest, reply: FastifyReply): Promise<void> {
    if (!isTenantRoute(request.routeOptions.url)) return;
    try {
      const grant = this.config.AUTH_MODE === 'none' ? { tenant: this.config.DEFAULT_TENANT, scopes: [...KEY_SCOPES] } : await this.authenticate(request, reply);
      const named = request.headers['x-tenant-id'];
      if (named !== undefined && named !== grant.tenant) {
        throw new ForbiddenException('this API key does not belong to the tenant named in X-Tenant-Id');
      }
      request.tenant = grant.tenant;
      request.grant = grant;
    } catch (err) {
      reply.header('Connection', 'close');
      throw err;
    }
  }

  private async authenticate(request: TenantRequest, reply: FastifyReply): Promise<ApiKeyGrant> {
    const key = BEARER.exec(request.headers.authorization ?? '')?.[1];
    const grant = key === undefined ? undefined : await this.apiKeys.grantOf(key);
    if (grant) return grant;
    const ip = request.ip;
    const failures = (this.failures.get(ip) ?? 0) + 1;
    this.failures.set(ip, failures, { noUpdateTTL: true });
    if (failures > this.config.AUTH_FAILURES_PER_MINUTE) {
      const seconds = Math.max(1, Math.ceil(this.failures.getRemainingTTL(ip) / 1000));
      reply.header('Retry-After', String(seconds));
      throw new HttpException(`too many failed authentications from this address; retry after ${seconds} s`, HttpStatus.TOO_MANY_REQUESTS);
    }
    throw new UnauthorizedException(key === undefined ? 'missing API key: send Authorization: Bearer <key>' : 'unknown API key');
  }
}
