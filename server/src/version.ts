// Imported, not read at run time: the compiled server (scripts/build.mjs) carries the version in itself.
import { version } from '../package.json';

export const SERVER_VERSION: string = version;
