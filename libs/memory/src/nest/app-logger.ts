import { ConsoleLogger, type LogLevel } from '@nestjs/common';

const ORDER: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** LOG_LEVEL names the most verbose level shown. */
export const logLevels = (level: string): LogLevel[] => ORDER.slice(0, ORDER.indexOf(level as LogLevel) + 1);

/**
 * The logger of every app, given to NestFactory.create so that LOG_LEVEL applies to Nest's own start-up lines
 * too; ANSI colours only on a terminal, never in a pipe or a log file.
 */
export const appLogger = (level: string): ConsoleLogger =>
  new ConsoleLogger({ logLevels: logLevels(level), colors: process.stdout.isTTY === true });
