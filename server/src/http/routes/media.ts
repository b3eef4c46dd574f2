/**
 * Audio downloads: `/media/{sha256}.{ogg|mp3}`, for a signed-in user or a
 * device (Basic auth with its id and secret). Range requests let devices on
 * flaky 4G resume. A device may fetch any file (its plan names them); a
 * commune user only the files their commune uses, or has just made
 * (MediaStore.visibleTo); a province user any.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { parseBasicAuthorization } from '@loaxa/protocol';
import type { AppServices } from '../context';
import { ErrorReply, HttpError } from '../errors';
import { sessionUser } from '../auth';

export const mediaRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get(
    '/media/:file',
    {
      config: { public: true },
      schema: {
        tags: ['media'],
        summary: 'Download an audio asset by its sha256 (session or device Basic auth); supports Range',
        params: Type.Object({ file: Type.String({ pattern: '^[0-9a-f]{64}\\.(ogg|mp3)$' }) }),
        response: { 401: ErrorReply, 404: ErrorReply },
      },
    },
    async (request, reply) => {
      const basic = parseBasicAuthorization(request.headers.authorization);
      const user = basic ? null : await sessionUser(request, services.users);
      const allowed = basic ? await services.registry.verifySecret(basic.user, basic.secret) : user !== null;
      if (!allowed) {
        reply.header('www-authenticate', 'Basic realm="loaxa-media"');
        throw new HttpError(401, 'media needs a signed-in user or device credentials');
      }
      const [sha256, format] = request.params.file.split('.') as [string, 'ogg' | 'mp3'];
      const asset = await services.media.get(sha256);
      // Another commune's file is answered like one that does not exist.
      const visible = !user || user.communeId === null || (await services.media.visibleTo(user.communeId, sha256));
      if (!asset || asset.format !== format || !visible) {
        throw new HttpError(404, `no media ${request.params.file}`, 'file');
      }
      reply.header('cache-control', 'private, max-age=31536000, immutable');
      reply.header('x-content-sha256', sha256);
      return reply.sendFile(services.media.relativePath(sha256, format), services.media.root, {
        contentType: true,
        acceptRanges: true,
        cacheControl: false,
      });
    },
  );
};
