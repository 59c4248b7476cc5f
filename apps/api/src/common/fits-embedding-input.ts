import { ValidateBy, ValidationOptions } from 'class-validator';
import { fitsEmbeddingInput, processConfig } from '@app/memory';

/**
 * Text that is embedded (turns, chat messages, queries) must fit the embedding model (EMBEDDING_MAX_INPUT_TOKENS):
 * a provider refuses longer input, and refusing it here is a 400 instead of an acknowledged turn that fails later.
 */
export const FitsEmbeddingInput = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'fitsEmbeddingInput',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || fitsEmbeddingInput(value, processConfig().EMBEDDING_MAX_INPUT_TOKENS),
        defaultMessage: () => `$property must be at most ${processConfig().EMBEDDING_MAX_INPUT_TOKENS} tokens of the embedding model (EMBEDDING_MAX_INPUT_TOKENS)`,
      },
    },
    options,
  );
