/** A configuration that cannot run, with every problem named (config.ts). Its own module: the CLI catches it without loading the configuration. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}
