import type { ValidationPipeOptions } from '@nestjs/common';

/** DTO validation everywhere: unknown fields are refused, not silently dropped. */
export const VALIDATION: ValidationPipeOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  // A property's checks stop at its first failure: the costly ones (token counts) come after the length checks.
  stopAtFirstError: true,
};
