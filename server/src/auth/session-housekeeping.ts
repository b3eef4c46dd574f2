/**
 * Removes expired sessions from the database. An expired session is already
 * refused when used (UserService.userForSession); this keeps its token hash
 * from lying in the database for ever and the table from growing with every
 * login. Hourly: the delete is one indexed statement (sessions_expiry), and a
 * session should not outlive its expiry by a day in a backup.
 */
import cron from 'node-cron';
import type { Logger } from 'pino';
import type { UserService } from './users';

/** Minute 17 of every hour: away from the top of the hour, when schedules and the horizon roll-forward run. */
export const SESSION_PURGE_CRON = '17 * * * *';

export interface SessionHousekeeping {
  stop(): void;
}

/**
 * Purges once now (a server that was down for a week starts clean), then every hour;
 * resolves once the first purge is done.
 */
export async function startSessionHousekeeping(
  users: Pick<UserService, 'purgeExpiredSessions'>,
  logger: Logger,
): Promise<SessionHousekeeping> {
  const purge = async () => {
    try {
      const removed = await users.purgeExpiredSessions();
      if (removed > 0) logger.info({ sessions: removed }, 'expired sessions removed');
    } catch (err) {
      // A busy or full disk (or a database out of reach) must not stop the server; the next hour tries again.
      logger.error({ err }, 'expired-session clean-up failed');
    }
  };
  await purge();
  const task = cron.schedule(SESSION_PURGE_CRON, purge, { name: 'loaxa-sessions', noOverlap: true });
  return {
    stop() {
      void task.stop();
    },
  };
}
