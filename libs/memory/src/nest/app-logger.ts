import { ConsoleLogger, type ConsoleLoggerOptions, type LogLevel } from '@nestjs/common';

const ORDER: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** LOG_LEVEL names the most verbose level shown. */
export const logLevels = (level: string): LogLevel[] => ORDER.slice(0, ORDER.indexOf(level as LogLevel) + 1);

/** Nest's start-up lines, one per module, controller and route (about 130 for the API): shown from LOG_LEVEL=debug. */
const START_UP_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

/** ConsoleLogger that keeps Nest's start-up lines out of the default level (log), where they buried the stack's summary. */
class AppLogger extends ConsoleLogger {
  constructor(
    private readonly startUpLines: boolean,
    options: ConsoleLoggerOptions,
  ) {
    super(options);
  }

  override log(message: unknown, ...rest: unknown[]): void {
    const context = rest.at(-1);
    if (!this.startUpLines && typeof context === 'string' && START_UP_CONTEXTS.has(context)) return;
    super.log(message, ...rest);
  }
}

/**
 * The logger of every app, given to NestFactory.create so that LOG_LEVEL applies to Nest's own start-up lines
 * too; ANSI colours only on a terminal, never in a pipe or a log file.
 */
export const appLogger = (level: string): ConsoleLogger => {
  const levels = logLevels(level);
  return new AppLogger(levels.includes('debug'), { logLevels: levels, colors: process.stdout.isTTY === true });
};
