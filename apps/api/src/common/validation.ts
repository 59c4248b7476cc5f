import { BadRequestException, type ValidationError, type ValidationPipeOptions } from '@nestjs/common';

/** Checks that say what a field must be, before any on its size or content: reported first when several fail. */
const TYPE_CHECKS = ['whitelistValidation', 'isDefined', 'isString', 'isIn', 'isEnum', 'isInt', 'isNumber', 'isBoolean', 'isArray', 'isObject'];

/** The one message of a field: its type check's when that failed (a missing field is "must be a string", not three). */
function firstMessage(constraints: Record<string, string>): string {
  const type = TYPE_CHECKS.find((name) => name in constraints);
  return type ? constraints[type] : Object.values(constraints)[0];
}

/** One message per invalid field, nested ones prefixed with their path (turns.0.content ...), as Nest words them. */
function fieldMessages(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((e) => [
    ...(e.constraints ? [`${parent}${firstMessage(e.constraints)}`] : []),
    ...fieldMessages(e.children ?? [], `${parent}${e.property}.`),
  ]);
}

/** DTO validation everywhere: unknown fields are refused, not silently dropped; one message per invalid field. */
export const VALIDATION: ValidationPipeOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors) => new BadRequestException(fieldMessages(errors)),
};
