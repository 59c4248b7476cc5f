import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import { PROVIDERS } from '@app/memory';

export class StartReindexBody {
  @ApiProperty({ description: `The new embedding generation: provider/model/dim, provider one of ${PROVIDERS.join(', ')}; the local embedder's model is 'local'`, example: 'openai-compatible/BAAI/bge-m3/1024' })
  @IsString()
  @MaxLength(300)
  to: string;
}

export class GenerationView {
  @ApiProperty({ enum: PROVIDERS })
  provider: string;

  @ApiProperty({ example: 'local' })
  model: string;

  @ApiProperty({ example: 1024 })
  dim: number;

  @ApiProperty({ description: 'The first 12 hex digits of the fingerprint', example: '3f2a9c0b51d4' })
  id: string;

  @ApiProperty({ description: "SHA-256 of the embedder's settings (provider, model, dimension, the local embedder's word-vector mix)" })
  fingerprint: string;

  @ApiProperty({ description: 'The hash field its vectors are stored in', example: 'embedding' })
  field: string;
}

export class ReindexStatusView {
  @ApiProperty({ enum: ['idle', 'building', 'switched'], description: 'building: the target is filled while searches use the active one; switched: searches use the new one, the previous is kept (and written) for REINDEX_GRACE_MS' })
  state: 'idle' | 'building' | 'switched';

  @ApiProperty({ type: GenerationView, description: 'The generation searches use' })
  active: GenerationView;

  @ApiPropertyOptional({ type: GenerationView })
  target?: GenerationView;

  @ApiPropertyOptional({ type: GenerationView })
  previous?: GenerationView;

  @ApiPropertyOptional({ type: GenerationView, description: 'A dropped generation whose vectors are being deleted' })
  dropping?: GenerationView;

  @ApiProperty({ description: 'Turns and memories re-embedded so far' })
  reembedded: number;

  @ApiProperty({ description: 'Hashes counted when it began (writes meanwhile go to both generations)' })
  total: number;

  @ApiProperty()
  remaining: number;

  @ApiProperty({ description: 'Re-embedded per second since it began' })
  rate: number;

  @ApiPropertyOptional({ description: 'The scan pass (the switch follows a pass that found nothing left)' })
  pass?: number;

  @ApiPropertyOptional({ description: 'Epoch ms' })
  startedAt?: number;

  @ApiPropertyOptional({ description: 'Epoch ms' })
  switchedAt?: number;
}
