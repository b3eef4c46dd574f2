import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LoginLimiter } from '../../auth/login-limiter';
import { ROLES } from '../../auth/users';
import type { AppServices } from '../context';
import { ErrorReply, HttpError } from '../errors';
import { clearSessionCookie, setSessionCookie, SESSION_COOKIE } from '../auth';

const UserReply = Type.Object({
  user: Type.Object({ username: Type.String(), role: Type.Union(ROLES.map((r) => Type.Literal(r))) }),
});

export const sessionRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const limiter = new LoginLimiter();

  app.post(
    '/session',
    {
      config: { public: true },
      schema: {
        tags: ['session'],
        summary: 'Log in; sets the session cookie',
        body: Type.Object(
          {
            username: Type.String({ minLength: 1, maxLength: 64 }),
            password: Type.String({ minLength: 1, maxLength: 200 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: UserReply, 400: ErrorReply, 401: ErrorReply, 429: ErrorReply },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const keys = [`user:${username.toLowerCase()}`, `ip:${request.ip}`];
      const wait = limiter.retryAfterMs(keys);
      if (wait > 0) {
        reply.header('retry-after', Math.ceil(wait / 1000));
        throw new HttpError(429, `too many failed logins; try again in ${Math.ceil(wait / 60_000)} minute(s)`);
      }
      const user = await services.users.authenticate(username, password);
      if (!user) {
        limiter.fail(keys);
        services.audit.record({ actor: username, action: 'login.failed', ip: request.ip });
        request.log.warn({ username }, 'login failed');
        throw new HttpError(401, 'wrong username or password', 'password');
      }
      limiter.succeed(keys);
      const { token, expiresAt } = services.users.startSession(user.username);
      setSessionCookie(request, reply, token, expiresAt);
      services.audit.record({ actor: user.username, action: 'login', ip: request.ip });
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
        const user = services.users.userForSession(token);
        services.users.endSession(token);
        if (user) services.audit.record({ actor: user.username, action: 'logout', ip: request.ip });
      }
      clearSessionCookie(reply);
      return reply.status(204).send(null);
    },
  );
};
