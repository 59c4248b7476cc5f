import { Injectable } from '@nestjs/common';
import { type ApiKeyGrant, ID_PATTERN, type KeyScope, MEMORY_ID_PATTERN, MemoryStore } from '@app/memory';
import { AccessDeniedError, sessionNotTheirs } from './access-denied.error';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The data a request names: checked against a user key's user. */
export interface AccessTargets {
  userId?: unknown;
  sessionId?: unknown;
  memoryId?: unknown;
}

/**
 * The one rule of what a key may reach, for REST (through the AccessGuard) and MCP tools alike. A tenant key reaches
 * its whole tenant. A user key reaches only its user's data: naming another user, a session that exists and is not
 * its user's (another user's, or a session without a user), or such a session's or user's memory is refused with 403
 * user_forbidden. A session that does not exist yet is allowed: a write creates it for the key's user (the write's
 * accept refuses it in turn if the session was created meanwhile without the user: see WriteTurnsService).
 */
@Injectable()
export class AccessPolicy {
  constructor(private readonly store: MemoryStore) {}

  /**
   * Checks the scope and the named data; returns the user the request acts as: the one it names, else (a user key)
   * the key's. A value that is not a valid id is left to validation (a 400), not looked up.
   */
  async authorize(grant: ApiKeyGrant, scope: KeyScope, targets: AccessTargets = {}): Promise<string | undefined> {
    if (!grant.scopes.includes(scope)) {
      throw new AccessDeniedError('scope_forbidden', `this API key lacks the ${scope} scope (it has ${grant.scopes.join(', ')})`);
    }
    const named = typeof targets.userId === 'string' ? targets.userId : undefined;
    if (grant.user === undefined) return named;
    if (named !== undefined) this.checkUser(grant, named);
    if (typeof targets.sessionId === 'string') await this.checkSession(grant, targets.sessionId);
    const memory = typeof targets.memoryId === 'string' ? MEMORY_ID_PATTERN.exec(targets.memoryId) : null;
    if (memory) {
      if (memory[1] === 'u') this.checkUser(grant, memory[2]);
      else await this.checkSession(grant, memory[2]);
    }
    return named ?? grant.user;
  }

  /**
   * authorize() for a request: `source` is its body or query (or nothing), whose userId is checked with the path's
   * `params`. A user key's request without a userId gets the key's user there, so its writes are its user's and its
   * searches and listings stay inside its user.
   */
  async authorizeRequest(grant: ApiKeyGrant, scope: KeyScope, params: Record<string, unknown>, source: unknown): Promise<void> {
    const fields = isObject(source) ? source : undefined;
    const user = await this.authorize(grant, scope, { ...params, userId: params.userId ?? fields?.userId });
    if (fields && fields.userId === undefined && user !== undefined) fields.userId = user;
  }

  private checkUser(grant: ApiKeyGrant, user: string): void {
    if (user !== grant.user) throw new AccessDeniedError('user_forbidden', `this API key is bound to user ${grant.user}: it cannot reach user ${user}`);
  }

  private async checkSession(grant: ApiKeyGrant, session: string): Promise<void> {
    if (!ID_PATTERN.test(session)) return;
    const owner = await this.store.sessionOwner(grant.tenant, session);
    if (owner.exists && owner.user !== grant.user) throw sessionNotTheirs(grant.user!, session);
  }
}
