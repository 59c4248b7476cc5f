import { appLogger } from '@app/memory/nest/app-logger';

/** What the logger prints, one entry per line written to stdout. */
function printed(level: string, lines: [string, string][]): string[] {
  const out: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true));
  try {
    const logger = appLogger(level);
    for (const [message, context] of lines) logger.log(message, context);
  } finally {
    write.mockRestore();
  }
  return out;
}

describe('appLogger', () => {
  const lines: [string, string][] = [
    ['ApiModule dependencies initialized', 'InstanceLoader'],
    ['TurnsController {/v1/sessions/:sessionId/turns}:', 'RoutesResolver'],
    ['Mapped {/v1/sessions/:sessionId/turns, POST} route', 'RouterExplorer'],
    ['listening on http://127.0.0.1:3000', 'api'],
  ];

  it("keeps Nest's start-up lines (modules, controllers, routes) out of the default level, and the app's own lines in", () => {
    const out = printed('log', lines);
    expect(out).toHaveLength(1);
    expect(out[0]).toContain('listening on http://127.0.0.1:3000');
  });

  it('shows them from LOG_LEVEL=debug', () => {
    expect(printed('debug', lines)).toHaveLength(4);
  });
});
