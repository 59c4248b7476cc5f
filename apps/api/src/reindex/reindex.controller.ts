import { Body, Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { MemoryConfig, parseGenerationSpec, ReindexControl } from '@app/memory';
import { Access } from '../auth/access.decorator';
import { AccessDeniedError } from '../auth/access-denied.error';
import { ApiErrors } from '../common/api-errors';
import { Tenant } from '../common/tenant.decorator';
import { ReindexStatusView, StartReindexBody } from './reindex.dto';

/**
 * Changing the embedding model of the whole store without downtime (docs/retrieval.md, "Changing the embedder"):
 * store-wide, so only the operator tenant's admin keys (OPERATOR_TENANT) reach it.
 */
@ApiTags('admin')
@Controller('v1/admin/reindex')
export class ReindexController {
  private readonly operator: string;

  constructor(
    private readonly control: ReindexControl,
    config: MemoryConfig,
  ) {
    this.operator = config.OPERATOR_TENANT ?? config.DEFAULT_TENANT;
  }

  @Post()
  @HttpCode(202)
  @Access('admin')
  @ApiOperation({ summary: 'Start re-embedding every stored turn and memory into a new embedding generation, in the background; searches switch when it covers everything. Needs the admin scope of the operator tenant' })
  @ApiAcceptedResponse({ type: ReindexStatusView })
  @ApiErrors(409)
  async start(@Tenant() tenant: string, @Body() { to }: StartReindexBody): Promise<ReindexStatusView> {
    this.checkOperator(tenant);
    return this.control.start(parseGenerationSpec(to));
  }

  @Get()
  @Access('admin')
  @ApiOperation({ summary: "The store's embedding generations and the re-index's progress. Needs the admin scope of the operator tenant" })
  @ApiOkResponse({ type: ReindexStatusView })
  @ApiErrors(409)
  async status(@Tenant() tenant: string): Promise<ReindexStatusView> {
    this.checkOperator(tenant);
    return this.control.status();
  }

  @Delete()
  @Access('admin')
  @ApiOperation({ summary: 'Abort: roll back to the previous generation (before the switch, or after it during the grace period). Needs the admin scope of the operator tenant' })
  @ApiOkResponse({ type: ReindexStatusView })
  @ApiErrors(409)
  async abort(@Tenant() tenant: string): Promise<ReindexStatusView> {
    this.checkOperator(tenant);
    return this.control.abort();
  }

  private checkOperator(tenant: string): void {
    if (tenant !== this.operator) throw new AccessDeniedError('scope_forbidden', 'the embedding generations are store-wide: only the operator tenant (OPERATOR_TENANT) may manage them');
  }
}
