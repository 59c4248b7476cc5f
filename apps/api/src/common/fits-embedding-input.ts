import { applyDecorators } from '@nestjs/common';
import { IsString, MaxLength, MinLength, ValidateBy } from 'class-validator';
import { fitsEmbeddingInput, processConfig } from '@app/memory';
import { LIMITS } from './limits';

/**
 * Text that is embedded (turns, chat messages, queries) must fit the embedding model (EMBEDDING_MAX_INPUT_TOKENS):
 * a provider refuses longer input, and refusing it here is a 400 instead of an acknowledged turn that fails later.
 */
const FitsEmbeddingInput = () =>
  ValidateBy({
    name: 'fitsEmbeddingInput',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || fitsEmbeddingInput(value, processConfig().EMBEDDING_MAX_INPUT_TOKENS),
      defaultMessage: () => `$property must be at most ${processConfig().EMBEDDING_MAX_INPUT_TOKENS} tokens of the embedding model (EMBEDDING_MAX_INPUT_TOKENS)`,
    },
  });

/**
 * Embedded text: a string of 1 to LIMITS.contentChars characters that fits the embedding model. In this order, and
 * with validation's stopAtFirstError, tokens are counted only in a string of bounded length.
 */
export const IsEmbeddableText = () => applyDecorators(IsString(), MinLength(1), MaxLength(LIMITS.contentChars), FitsEmbeddingInput());
