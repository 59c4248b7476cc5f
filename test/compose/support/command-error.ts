/** A docker-compose or podman command that exited non-zero; the message carries its stderr. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | string | undefined,
    readonly stderr: string,
  ) {
    super(`\`${command}\` failed (${exitCode}):\n${stderr.trim()}`);
    this.name = 'CommandError';
  }
}
