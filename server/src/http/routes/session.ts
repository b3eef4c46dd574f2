import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LoginLimiter } from '../../auth/login-limiter';
import { LoginLockout, lockedMessage } from '../../auth/lockout';
import { ROLES } from '../../auth/users';
import type { AppServices } from '../context';
import { ErrorReply, HttpError } from '../errors';
import { clearSessionCookie, setSessionCookie, SESSION_COOKIE } from '../auth';

const UserReply = Type.Object({
  user: Type.Object({
    username: Type.String(),
    role: Type.Union(ROLES.map((r) => Type.Literal(r))),
    /**
     * The password was generated or set by an administrator: until it is changed
     * (PUT /api/v1/session/password) every other call answers 403 `password-change-required`.
     */
    mustChangePassword: Type.Boolean(),
    /** The user's commune; null for a province user. */
    communeId: Type.Union([Type.String(), Type.Null()]),
  }),
});

/**
 * Per address, on top of the per-account lock-out: one address guessing many
 * usernames. Looser than the account limit, since a commune office shares one
 * address behind its router.
 */
const IP_MAX_FAILURES = 20;
const IP_WINDOW_MS = 15 * 60_000;

const DISABLED_MESSAGE =
  'Tài khoản này đã bị khóa; hãy nhờ quản trị viên mở lại. / This account is disabled; ask an administrator to enable it.';

export const sessionRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const ipLimiter = new LoginLimiter(IP_MAX_FAILURES, IP_WINDOW_MS);
  const lockout = new LoginLockout(services.sql);

  app.post(
    '/session',
    {
      config: { public: true },
      schema: {
        tags: ['session'],
        summary: 'Log in; sets the session cookie',
        description:
          'After 5 wrong passwords for one username within 15 minutes the account is locked for 15 minutes ' +
          '(429, Retry-After); an administrator can unlock it sooner. A disabled account gets 403 (field `username`) ' +
          'once the password is right.',
        body: Type.Object(
          {
            username: Type.String({ minLength: 1, maxLength: 64 }),
            password: Type.String({ minLength: 1, maxLength: 200 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: UserReply, 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 429: ErrorReply },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const ipKeys = [`ip:${request.ip}`];
      const refuse = (until: number, message: string) => {
        reply.header('retry-after', Math.max(1, Math.ceil((until - Date.now()) / 1000)));
        return new HttpError(429, message);
      };
      const wait = ipLimiter.retryAfterMs(ipKeys);
      if (wait > 0) {
        const minutes = Math.ceil(wait / 60_000);
        throw refuse(
          Date.now() + wait,
          `Quá nhiều lần đăng nhập sai từ địa chỉ này; thử lại sau ${minutes} phút. / ` +
            `Too many failed logins from this address; try again in ${minutes} minute(s).`,
        );
      }
      const lockedUntil = await lockout.lockedUntil(username);
      if (lockedUntil) {
        // Hammering a locked account still counts against the address.
        ipLimiter.fail(ipKeys);
        await services.audit.record({
          actor: username,
          action: 'login.refused',
          detail: { reason: 'locked' },
          ip: request.ip,
          communeId: await services.users.communeOf(username),
        });
        request.log.warn({ username }, 'login refused: account locked');
        throw refuse(lockedUntil, lockedMessage(lockedUntil));
      }
      const result = await services.users.checkLogin(username, password);
      if ('refused' in result && result.refused === 'disabled') {
        // The password was right: not a guess, so no failure is counted.
        await services.audit.record({
          actor: username,
          action: 'login.refused',
          detail: { reason: 'disabled' },
          ip: request.ip,
          communeId: await services.users.communeOf(username),
        });
        request.log.warn({ username }, 'login refused: account disabled');
        throw new HttpError(403, DISABLED_MESSAGE, 'username');
      }
      const user = 'user' in result ? result.user : null;
      if (!user) {
        ipLimiter.fail(ipKeys);
        const { failures, lockedUntil: lockedNow } = await lockout.fail(username);
        await services.audit.record({
          actor: username,
          action: 'login.failed',
          ip: request.ip,
          communeId: await services.users.communeOf(username),
        });
        request.log.warn({ username, failures }, 'login failed');
        if (lockedNow) {
          await services.audit.record({
            actor: 'system',
            action: 'user.lockout',
            target: username,
            detail: { failures, lockedUntil: new Date(lockedNow).toISOString() },
            ip: request.ip,
            communeId: await services.users.communeOf(username),
          });
          request.log.warn({ username, lockedUntil: new Date(lockedNow).toISOString() }, 'account locked');
          throw refuse(lockedNow, lockedMessage(lockedNow));
        }
        throw new HttpError(401, 'wrong username or password', 'password');
      }
      ipLimiter.succeed(ipKeys);
      await lockout.clear(username);
      const { token, expiresAt } = await services.users.startSession(user.username);
      setSessionCookie(request, reply, token, expiresAt);
      await services.audit.record({ actor: user.username, action: 'login', ip: request.ip, communeId: user.communeId });
      request.log.info({ username }, 'login');
      return { user };
    },
  );

  app.get(
    '/session',
    {
      config: { permission: 'session:self' },
      schema: { tags: ['session'], summary: 'The signed-in user', response: { 200: UserReply, 401: ErrorReply } },
    },
    async (request) => ({ user: request.user! }),
  );

  app.delete(
    '/session',
    { config: { public: true }, schema: { tags: ['session'], summary: 'Log out', response: { 204: Type.Null() } } },
    async (request, reply) => {
      const token = request.cookies[SESSION_COOKIE];
      if (token) {
        const user = await services.users.userForSession(token);
        await services.users.endSession(token);
        if (user) {
          await services.audit.record({
            actor: user.username,
            action: 'logout',
            ip: request.ip,
            communeId: user.communeId,
          });
        }
      }
      clearSessionCookie(reply);
      return reply.status(204).send(null);
    },
  );
};
