import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayNotEmpty, IsArray, IsIn, IsOptional, Matches } from 'class-validator';
import { ID_PATTERN, KEY_SCOPES, type KeyScope } from '@app/memory';

export class IssueKeyBody {
  @ApiPropertyOptional({ description: "Bind the key to this user of the tenant: it reaches only the user's data and writes only as the user", pattern: ID_PATTERN.source, example: 'alice' })
  @IsOptional()
  @Matches(ID_PATTERN, { message: `userId must match ${ID_PATTERN.source}` })
  userId?: string;

  @ApiPropertyOptional({ enum: KEY_SCOPES, isArray: true, default: ['read', 'write'], example: ['read', 'write'], description: 'admin (key management) only on a key without userId' })
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty()
  @IsIn(KEY_SCOPES, { each: true })
  scopes?: KeyScope[];
}

export class KeyIdParams {
  @ApiProperty({ pattern: '^[0-9a-f]{64}$', example: 'f'.repeat(64), description: 'The id given when the key was issued (its SHA-256 digest)' })
  @Matches(/^[0-9a-f]{64}$/, { message: 'keyId must be 64 lowercase hex digits' })
  keyId: string;
}

export class IssuedKeyView {
  @ApiProperty({ description: 'The key: shown this once, never again (only its digest is kept)', example: 'am_Qx3v9kT0aLm2Pq7sQx3v9kT0aLm2Pq7s' })
  key: string;

  @ApiProperty({ description: 'Its id, to revoke it with DELETE /v1/keys/:keyId' })
  id: string;

  @ApiProperty({ example: 'acme' })
  tenant: string;

  @ApiProperty({ type: String, nullable: true, description: 'The user it is bound to, or null for a tenant key' })
  userId: string | null;

  @ApiProperty({ enum: KEY_SCOPES, isArray: true })
  scopes: KeyScope[];
}

export class RevokedKey {
  @ApiProperty({ description: 'The id of the revoked key' })
  id: string;
}
