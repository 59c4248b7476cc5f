import { UnrecoverableError } from 'bullmq';
import { DimensionMismatchError } from '../errors/dimension-mismatch.error';
import { InvalidInputError } from '../errors/invalid-input.error';
import { ProviderError } from '../errors/provider.error';

/** Permanent failures fail the job at once; everything else is rethrown for BullMQ to retry with backoff. */
export function toJobError(err: unknown): unknown {
  const permanent =
    err instanceof InvalidInputError ||
    err instanceof DimensionMismatchError ||
    (err instanceof ProviderError && !err.retryable);
  return permanent ? new UnrecoverableError(`${(err as Error).name}: ${(err as Error).message}`) : err;
}
