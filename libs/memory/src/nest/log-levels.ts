import type { LogLevel } from '@nestjs/common';

const ORDER: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** LOG_LEVEL names the most verbose level shown. */
export const logLevels = (level: string): LogLevel[] => ORDER.slice(0, ORDER.indexOf(level as LogLevel) + 1);
