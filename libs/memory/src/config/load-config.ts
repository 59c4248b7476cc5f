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
  'REDIS_CLUSTER_NODES',
  'RERANK_URL',
  'RERANK_MODEL',
  'RERANK_API_KEY',
];
const KNOWN = new Set([...Object.keys(new MemoryConfig()), ...WITHOUT_DEFAULT]);

const describe = (errors: ValidationError[], raw: Record<string, unknown>): string[] =>
  errors.map((e) => `${e.property}=${JSON.stringify(raw[e.property])}: ${Object.values(e.constraints ?? {}).join('; ')}`);

let environment: Readonly<Record<string, string | undefined>> | undefined;
let cached: MemoryConfig | undefined;

/**
 * The process's environment: `.env` in the working directory (if any) under the real environment, read once.
 * This is the only place that reads process.env; the services validate it into a MemoryConfig (processConfig),
 * the CLI into its own few variables.
 */
export function processEnv(): Readonly<Record<string, string | undefined>> {
  if (!environment) {
    if (existsSync('.env')) process.loadEnvFile('.env');
    environment = Object.freeze({ ...process.env });
  }
  return environment;
}

/** The process's configuration, validated once and shared by everything in the process. */
export function processConfig(): MemoryConfig {
  cached ??= loadConfig(processEnv());
  return cached;
}

/** Validates an environment into a frozen MemoryConfig; an empty value counts as unset. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): MemoryConfig {
  return validateEnvironment(MemoryConfig, env, KNOWN);
}

/**
 * Validates the variables of `env` named in `known` into a frozen instance of `schema` (class-validator
 * decorators, defaults from its initialisers); an empty value counts as unset. Throws a ConfigError naming
 * every bad variable.
 */
export function validateEnvironment<T extends object>(schema: new () => T, env: Readonly<Record<string, string | undefined>>, known: ReadonlySet<string>): T {
  const relevant = Object.fromEntries(Object.entries(env).filter(([k, v]) => known.has(k) && v !== undefined && v !== ''));
  const config = plainToInstance(schema, relevant, { exposeDefaultValues: true });
  const errors = validateSync(config);
  if (errors.length > 0) {
    throw new ConfigError(`Invalid environment:\n  ${describe(errors, relevant).join('\n  ')}`);
  }
  return Object.freeze(config);
}
