/**
 * Session authentication for the API: one hook, one place. Routes opt out
 * with `config: { public: true }`; everything else needs a valid session.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { User, UserService } from '../auth/users';
import { HttpError } from './errors';
import { allows, PROVINCE_ONLY, type Permission } from '../auth/permissions';
import { isSameOrigin } from './origin';
import { communeScope, PROVINCE, type Scope } from '../tenancy/scope';

export const SESSION_COOKIE = 'loaxa_session';

declare module 'fastify' {
  interface FastifyRequest {
    user: User | null;
    /** Whose data this request may touch: the user's commune, or the whole province (tenancy/scope.ts). */
    scope: Scope;
  }
  interface FastifyContextConfig {
    public?: boolean;
    /** Required of every non-public API route; checked by one hook. */
    permission?: Permission;
  }
}

export async function sessionUser(request: FastifyRequest, users: UserService): Promise<User | null> {
  const token = request.cookies[SESSION_COOKIE];
  return token ? users.userForSession(token) : null;
}

/** The local operator CLI (see auth/local-token.ts) acts as this province admin. */
const LOCAL_CLI_USER: User = { username: 'cli', role: 'admin', mustChangePassword: false, communeId: null };

/** The `code` of the 403 a session gets while its password must be changed first. */
export const PASSWORD_CHANGE_REQUIRED = 'password-change-required';

export function installSessionAuth(
  app: FastifyInstance,
  users: UserService,
  localToken?: { matches(token: string): boolean },
): void {
  app.decorateRequest('user', null);
  // Set by the hook below for every non-public route (a reference value cannot be a decorator default).
  app.decorateRequest('scope', null as unknown as Scope);
  app.addHook('onRoute', (route) => {
    const config = route.config as { public?: boolean; permission?: Permission } | undefined;
    if (!config?.public && !config?.permission) {
      throw new Error(`route ${route.method} ${route.url} declares neither a permission nor public`);
    }
  });
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (request.routeOptions.config?.public) return;
    // Cookies ride along on cross-site requests; a write from another origin is refused (CSRF).
    const origin = request.headers.origin;
    if (origin !== undefined && !['GET', 'HEAD'].includes(request.method) && !isSameOrigin(origin, request.host)) {
      // JSON.stringify: the header is whatever the client sent, quoted so it cannot pass for our words.
      throw new HttpError(403, `origin: cross-site request from ${JSON.stringify(origin)} refused`, 'origin');
    }
    const bearer = request.headers.authorization?.match(/^Bearer (\S+)$/)?.[1];
    const user = bearer ? (localToken?.matches(bearer) ? LOCAL_CLI_USER : null) : await sessionUser(request, users);
    if (!user) throw new HttpError(401, 'not signed in: log in first');
    request.user = user;
    request.scope = user.communeId === null ? PROVINCE : communeScope(user.communeId);
    const permission = request.routeOptions.config.permission!;
    // A password someone else chose (generated, or reset by an admin) opens only the door to change it.
    if (user.mustChangePassword && permission !== 'session:self') {
      throw new HttpError(
        403,
        'password change required: this account’s password was generated or set by an administrator; ' +
          'choose your own (PUT /api/v1/session/password) before doing anything else',
        undefined,
        { code: PASSWORD_CHANGE_REQUIRED },
      );
    }
    if (!allows(user, permission)) {
      const who = user.communeId === null ? `your role (province ${user.role})` : `your role (${user.role})`;
      const province = PROVINCE_ONLY.has(permission) && user.communeId !== null ? ', a province user' : '';
      throw new HttpError(403, `${who} may not do this (needs ${permission}${province})`);
    }
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
