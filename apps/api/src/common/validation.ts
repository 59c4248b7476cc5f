import type { ValidationPipeOptions } from '@nestjs/common';

/** DTO validation everywhere: unknown fields are refused, not silently dropped. */
export const VALIDATION: ValidationPipeOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  stopAtFirstError: false,
};
