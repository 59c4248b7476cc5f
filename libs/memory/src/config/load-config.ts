import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';
import { ConfigError } from '../errors/config.error';
import { MemoryConfig } from './memory-config';

/** Variables with no default (credentials and endpoints) are not own properties of a fresh MemoryConfig. */
const WITHOUT_DEFAULT = [
  'OPENAI_API_KEY',
  'OPENAI_BASE_URL',
  'AZURE_OPENAI_API_KEY',
  'AZURE_OPENAI_ENDPOINT',
  'AZURE_OPENAI_CHAT_DEPLOYMENT',
  'AZURE_OPENAI_EMBEDDING_DEPLOYMENT',
  'API_KEYS',
];
const KNOWN = new Set([...Object.keys(new MemoryConfig()), ...WITHOUT_DEFAULT]);

const describe = (errors: ValidationError[], raw: Record<string, unknown>): string[] =>
  errors.map((e) => `${e.property}=${JSON.stringify(raw[e.property])}: ${Object.values(e.constraints ?? {}).join('; ')}`);

let cached: MemoryConfig | undefined;

/**
 * The process's configuration: `.env` in the working directory (if any) under the real environment,
 * validated once and shared by everything in the process. This is the only place that reads process.env.
 */
export function processConfig(): MemoryConfig {
  if (!cached) {
    if (existsSync('.env')) process.loadEnvFile('.env');
    cached = loadConfig(process.env);
  }
  return cached;
}

/** Validates an environment into a frozen MemoryConfig; an empty value counts as unset. */
export function loadConfig(env: Record<string, string | undefined>): MemoryConfig {
  const relevant = Object.fromEntries(Object.entries(env).filter(([k, v]) => KNOWN.has(k) && v !== undefined && v !== ''));
  const config = plainToInstance(MemoryConfig, relevant, { exposeDefaultValues: true });
  const errors = validateSync(config);
  if (errors.length > 0) {
    throw new ConfigError(`Invalid environment:\n  ${describe(errors, relevant).join('\n  ')}`);
  }
  return Object.freeze(config);
}
