import { ValidateBy, ValidationOptions } from 'class-validator';
import { LIMITS } from '../common/limits';

/** Metadata stays small: a bounded number of top-level keys and of serialised bytes. */
export const IsSmallJsonObject = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isSmallJsonObject',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          Object.keys(value).length <= LIMITS.metadataKeys &&
          Buffer.byteLength(JSON.stringify(value)) <= LIMITS.metadataBytes,
        defaultMessage: () => `$property must have at most ${LIMITS.metadataKeys} keys and ${LIMITS.metadataBytes} bytes of JSON`,
      },
    },
    options,
  );
