import pkg from '../package.json' with { type: 'json' };

/** Reported in status payloads when the config does not pin one. */
export const AGENT_VERSION: string = pkg.version;
