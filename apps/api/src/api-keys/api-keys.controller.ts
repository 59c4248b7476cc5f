import { Body, Controller, Delete, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyStore, NotFoundError } from '@app/memory';
import { Access } from '../auth/access.decorator';
import { ApiErrors } from '../common/api-errors';
import { Tenant } from '../common/tenant.decorator';
import { IssuedKeyView, IssueKeyBody, KeyIdParams, RevokedKey } from './api-keys.dto';

/** Key management for the key's own tenant, by an admin key: an app's backend issues its end users' keys here. */
@ApiTags('keys')
@Controller('v1/keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeyStore) {}

  @Post()
  @Access('admin')
  @ApiOperation({ summary: "Issue a key for this tenant, or for one user of it (the key is in this answer only); needs the admin scope" })
  @ApiCreatedResponse({ type: IssuedKeyView })
  @ApiErrors()
  async issue(@Tenant() tenant: string, @Body() { userId, scopes }: IssueKeyBody): Promise<IssuedKeyView> {
    const { key, issued } = await this.keys.issue({ tenant, ...(userId === undefined ? {} : { user: userId }), scopes: scopes ?? ['read', 'write'] });
    return { key, id: issued.id, tenant: issued.tenant, userId: issued.user ?? null, scopes: issued.scopes };
  }

  @Delete(':keyId')
  @Access('admin')
  @ApiOperation({ summary: "Revoke one of this tenant's keys issued into Redis (API_KEYS are configuration: not here); needs the admin scope" })
  @ApiOkResponse({ type: RevokedKey })
  @ApiErrors(404)
  async revoke(@Tenant() tenant: string, @Param() { keyId }: KeyIdParams): Promise<RevokedKey> {
    if (!(await this.keys.revoke(keyId, tenant))) throw new NotFoundError(`no key ${keyId} of this tenant`);
    return { id: keyId };
  }
}
