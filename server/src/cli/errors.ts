/** A command that cannot be done as asked; the CLI prints its message and exits 1. */
export class CliError extends Error {}
