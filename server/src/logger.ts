import pino, { type DestinationStream, type Logger } from 'pino';
import { logContext } from './log-context';

/** `destination` lets tests read the JSON lines; by default they go to stdout. */
export function createLogger(level: string, pretty = false, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'loaxa' },
    // Lines written while serving a request carry its id, whichever logger wrote them.
    // `request.log` already binds reqId; a second copy would repeat the key.
    mixin(_object, _level, logger) {
      const context = logContext.getStore();
      if (!context || 'reqId' in logger.bindings()) return {};
      return { reqId: context.reqId };
    },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['req.headers.cookie', 'req.headers.authorization', 'password', 'adminPassword', 'secret'],
      censor: '[redacted]',
    },
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,service' },
          },
        }
      : {}),
  };
  return destination ? pino(options, destination) : pino(options);
}
