/**
 * Session authentication for the API: one hook, one place. Routes opt out
 * with `config: { public: true }`; everything else needs a valid session.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { User, UserService } from '../auth/users';
import { HttpError } from './errors';

export const SESSION_COOKIE = 'loaxa_session';

declare module 'fastify' {
  interface FastifyRequest {
    user: User | null;
  }
  interface FastifyContextConfig {
    public?: boolean;
  }
}

export function sessionUser(request: FastifyRequest, users: UserService): User | null {
  const token = request.cookies[SESSION_COOKIE];
  return token ? users.userForSession(token) : null;
}

/** The local operator CLI (see auth/local-token.ts) acts as this admin. */
const LOCAL_CLI_USER: User = { username: 'cli', role: 'admin' };

export function installSessionAuth(
  app: FastifyInstance,
  users: UserService,
  localToken?: { matches(token: string): boolean },
): void {
  app.decorateRequest('user', null);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (request.routeOptions.config?.public) return;
    const bearer = request.headers.authorization?.match(/^Bearer (\S+)$/)?.[1];
    const user = bearer ? (localToken?.matches(bearer) ? LOCAL_CLI_USER : null) : sessionUser(request, users);
    if (!user) throw new HttpError(401, 'not signed in: log in first');
    request.user = user;
  });
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string, expiresAt: number): void {
  reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: request.protocol === 'https',
    expires: new Date(expiresAt),
  });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}
