import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { isISO8601, ValidateBy } from 'class-validator';
import { LIMITS } from './limits';

/** An ISO date-time with no offset is read as UTC, not as the server's local time. */
const HAS_OFFSET = /(Z|[+-]\d{2}(:?\d{2})?)$/i;

/** Epoch milliseconds from epoch ms (a number or a digit string) or an ISO 8601 date or date-time; NaN for anything else. */
export function toEpochMs(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return NaN;
  if (/^\d{1,16}$/.test(value)) return Number(value);
  if (!isISO8601(value, { strict: true, strictSeparator: true })) return NaN;
  return Date.parse(!value.includes('T') || HAS_OFFSET.test(value) ? value : `${value}Z`);
}

/** ISO 8601 for clients; null for an absent time. */
export const toIso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** Whether `ms` is a point in time a JavaScript Date can represent, in whole epoch milliseconds from 1970. */
export const isEpochMs = (ms: unknown): ms is number => Number.isInteger(ms) && (ms as number) >= 0 && (ms as number) <= LIMITS.maxTimestamp;

/** Why a value is not a timestamp. */
export const timestampMessage = (property: string) => `${property} must be an ISO 8601 date-time or epoch milliseconds (0 to ${LIMITS.maxTimestamp})`;

/** The OpenAPI description of an optional timestamp (see IsTimestamp). */
export const ApiTimestamp = (description: string, example: string, where: 'body' | 'query' = 'body') =>
  ApiPropertyOptional({
    description: `${description}: ISO 8601 (UTC unless it has an offset) or epoch milliseconds`,
    // A query parameter is a string either way; a JSON body may hold a string or a number.
    ...(where === 'query'
      ? { type: String }
      : { oneOf: [{ type: 'string', format: 'date-time' }, { type: 'integer', minimum: 0, maximum: LIMITS.maxTimestamp }] }),
    example,
  });

/**
 * An optional point in time, given as ISO 8601 (UTC unless it carries an offset) or as epoch milliseconds, and
 * handed on as epoch milliseconds.
 */
export const IsTimestamp = (description: string, example: string, where: 'body' | 'query' = 'body') =>
  applyDecorators(
    ApiTimestamp(description, example, where),
    Transform(({ value }) => (value === undefined ? value : toEpochMs(value))),
    ValidateBy({
      name: 'isTimestamp',
      validator: {
        validate: isEpochMs,
        defaultMessage: (args) => timestampMessage(args?.property ?? 'timestamp'),
      },
    }),
  );
