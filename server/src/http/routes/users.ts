import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ROLES, UserChangeError } from '../../auth/users';
import { PROVINCE_ROLES } from '../../auth/permissions';
import type { AppServices } from '../context';
import { ErrorReply, HttpError } from '../errors';
import { setSessionCookie } from '../auth';
import { LoginLockout } from '../../auth/lockout';

const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));
const Password = Type.String({ minLength: 8, maxLength: 200 });
const Username = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.@-]+$' });
const UserView = Type.Object({
  username: Type.String(),
  role: Role,
  createdAt: Type.String({ format: 'date-time' }),
  disabled: Type.Boolean(),
  /** The password was set by an administrator (or generated); the owner must choose their own at next sign-in. */
  mustChangePassword: Type.Boolean(),
  /** Set while the account is locked after too many wrong passwords. */
  lockedUntil: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  /** The user's commune; null for a province user. */
  communeId: Type.Union([Type.String(), Type.Null()]),
});
const CommuneId = Type.String({ minLength: 1, maxLength: 64 });

export const userRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const lockout = new LoginLockout(services.sql);

  app.get(
    '/users',
    {
      config: { permission: 'users:manage' },
      schema: {
        tags: ['users'],
        summary: 'The users one may manage: a commune admin their commune’s, a province admin everyone',
        response: { 200: Type.Array(UserView) },
      },
    },
    async (request) => services.users.list(request.scope),
  );

  app.post(
    '/users',
    {
      config: { permission: 'users:manage' },
      schema: {
        tags: ['users'],
        summary: 'Create a user with a role, in a commune or (no `commune`) for the province',
        description:
          'A commune admin creates users of their own commune (`commune` may be left out). ' +
          'A province admin gives `commune` for a commune user, or leaves it out for a province user ' +
          `(roles ${PROVINCE_ROLES.join(', ')}).`,
        body: Type.Object(
          { username: Username, password: Password, role: Role, commune: Type.Optional(CommuneId) },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            username: Type.String(),
            role: Role,
            communeId: Type.Union([Type.String(), Type.Null()]),
          }),
          400: ErrorReply,
          404: ErrorReply,
          409: ErrorReply,
        },
      },
    },
    async (request, reply) => {
      const { username, password, role, commune } = request.body;
      let communeId: string | null;
      if (request.scope.communeId === null && commune === undefined) {
        communeId = null;
        if (!PROVINCE_ROLES.includes(role)) {
          throw new HttpError(
            400,
            `role: a province user is ${PROVINCE_ROLES.join(', ')}; give \`commune\` for a ${role}`,
            'role',
          );
        }
      } else {
        communeId = await services.communes.forWrite(request.scope, commune);
      }
      if (await services.users.exists(username))
        throw new HttpError(409, `a user named "${username}" already exists`, 'username');
      const user = await services.users.create(username, password, role, { communeId });
      await services.audit.record({
        actor: request.user!.username,
        action: 'user.create',
        target: username,
        detail: { role, commune: communeId },
        ip: request.ip,
        communeId,
      });
      return reply.status(201).send({ username: user.username, role: user.role, communeId: user.communeId });
    },
  );

  app.patch(
    '/users/:username',
    {
      config: { permission: 'users:manage' },
      schema: {
        tags: ['users'],
        summary: 'Disable or enable an account, or change its role',
        description:
          'Give at least one of `disabled` and `role`. ' +
          'Disabling ends every session of the account at once and refuses its logins. ' +
          'You cannot disable yourself, and the last enabled administrator cannot be disabled or demoted (409).',
        params: Type.Object({ username: Username }),
        body: Type.Object(
          { disabled: Type.Optional(Type.Boolean()), role: Type.Optional(Role) },
          { additionalProperties: false },
        ),
        response: { 200: UserView, 400: ErrorReply, 404: ErrorReply, 409: ErrorReply },
      },
    },
    async (request) => {
      const { username } = request.params;
      const actor = request.user!.username;
      if (request.body.disabled === undefined && request.body.role === undefined) {
        throw new HttpError(400, 'body: give disabled and/or role', 'body');
      }
      let result;
      try {
        result = await services.users.update(request.scope, actor, username, request.body);
      } catch (err) {
        if (err instanceof UserChangeError) throw new HttpError(409, err.message, err.field);
        throw err;
      }
      if (!result) throw new HttpError(404, `no user named "${username}"`, 'username');
      const { before, after } = result;
      if (before.disabled !== after.disabled) {
        await services.audit.record({
          actor,
          action: after.disabled ? 'user.disable' : 'user.enable',
          target: username,
          ip: request.ip,
          communeId: after.communeId,
        });
        request.log.info(
          { username, disabled: after.disabled },
          after.disabled ? 'account disabled' : 'account enabled',
        );
      }
      if (before.role !== after.role) {
        await services.audit.record({
          actor,
          action: 'user.role-change',
          target: username,
          detail: { from: before.role, to: after.role },
          ip: request.ip,
          communeId: after.communeId,
        });
      }
      return after;
    },
  );

  app.put(
    '/users/:username/password',
    {
      config: { permission: 'users:manage' },
      schema: {
        tags: ['users'],
        summary: 'Reset a user’s password (ends their sessions)',
        description:
          'The user must choose their own password at their next sign-in: until then their session may only ' +
          'change it (PUT /api/v1/session/password). An administrator resetting their own password is not asked again.',
        params: Type.Object({ username: Username }),
        body: Type.Object({ password: Password }, { additionalProperties: false }),
        response: { 204: Type.Null(), 400: ErrorReply, 404: ErrorReply },
      },
    },
    async (request, reply) => {
      const { username } = request.params;
      const mustChange = username !== request.user!.username;
      if (!(await services.users.get(request.scope, username))) {
        throw new HttpError(404, `no user named "${username}"`, 'username');
      }
      if (!(await services.users.setPassword(username, request.body.password, { mustChange }))) {
        throw new HttpError(404, `no user named "${username}"`, 'username');
      }
      // A new password from the administrator also lifts a lock-out.
      const unlocked = (await lockout.lockedUntil(username)) !== null;
      await lockout.clear(username);
      await services.audit.record({
        actor: request.user!.username,
        action: 'user.password-reset',
        target: username,
        ...(unlocked ? { detail: { unlocked } } : {}),
        ip: request.ip,
        communeId: await services.users.communeOf(username),
      });
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/users/:username/unlock',
    {
      config: { permission: 'users:manage' },
      schema: {
        tags: ['users'],
        summary: 'Lift a lock-out after too many wrong passwords',
        params: Type.Object({ username: Username }),
        response: { 204: Type.Null(), 404: ErrorReply },
      },
    },
    async (request, reply) => {
      const { username } = request.params;
      if (!(await services.users.get(request.scope, username))) {
        throw new HttpError(404, `no user named "${username}"`, 'username');
      }
      const wasLocked = (await lockout.lockedUntil(username)) !== null;
      await lockout.clear(username);
      await services.audit.record({
        actor: request.user!.username,
        action: 'user.unlock',
        target: username,
        detail: { wasLocked },
        ip: request.ip,
        communeId: await services.users.communeOf(username),
      });
      request.log.info({ username, wasLocked }, 'account unlocked');
      return reply.status(204).send(null);
    },
  );

  app.put(
    '/session/password',
    {
      config: { permission: 'session:self' },
      schema: {
        tags: ['session'],
        summary: 'Change your own password (other sessions end; this one continues)',
        description:
          'A wrong current password is 403 (field `currentPassword`); a new password the same as the current one ' +
          'is 400 (field `newPassword`). Lifts `mustChangePassword`.',
        body: Type.Object(
          { currentPassword: Type.String({ minLength: 1, maxLength: 200 }), newPassword: Password },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null(), 400: ErrorReply, 403: ErrorReply },
      },
    },
    async (request, reply) => {
      const me = request.user!;
      const { currentPassword, newPassword } = request.body;
      if (!(await services.users.authenticate(me.username, currentPassword))) {
        throw new HttpError(403, 'the current password is wrong', 'currentPassword');
      }
      if (newPassword === currentPassword) {
        throw new HttpError(400, 'the new password is the same as the current one; choose another', 'newPassword', {
          code: 'password-unchanged',
        });
      }
      await services.users.setPassword(me.username, newPassword, { mustChange: false });
      const { token, expiresAt } = await services.users.startSession(me.username);
      setSessionCookie(request, reply, token, expiresAt);
      await services.audit.record({
        actor: me.username,
        action: 'user.password-change',
        target: me.username,
        ip: request.ip,
        communeId: me.communeId,
      });
      return reply.status(204).send(null);
    },
  );
};
