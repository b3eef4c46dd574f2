/**
 * Graceful HTTP shutdown: once draining, new requests get 503 (with
 * Retry-After, so the console and devices come back later), event streams
 * are ended, and the requests already running (a broadcast being rendered and
 * sent, an upload being stored) are given time to finish before the server
 * goes on to close MQTT and the database.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HttpError } from './errors';

declare module 'fastify' {
  interface FastifyInstance {
    requestDrain: RequestDrain;
  }
}

export class RequestDrain {
  private readonly inFlight = new Set<FastifyReply>();
  private draining = false;
  private idle: (() => void) | null = null;

  get active(): number {
    return this.inFlight.size;
  }

  install(app: FastifyInstance): void {
    app.decorate('requestDrain', this as RequestDrain);
    app.addHook('onRequest', async (_request, reply) => {
      if (this.draining) {
        reply.header('retry-after', 5).header('connection', 'close');
        throw new HttpError(
          503,
          'Máy chủ đang dừng; thử lại sau ít giây. / The server is shutting down; try again shortly.',
        );
      }
      this.inFlight.add(reply);
      reply.raw.once('close', () => {
        this.inFlight.delete(reply);
        if (this.inFlight.size === 0) this.idle?.();
      });
    });
  }

  /**
   * Refuses new requests, ends event streams and waits (up to `timeoutMs`) for
   * the rest. Returns how many requests were still running at the deadline.
   */
  async drain(timeoutMs: number): Promise<number> {
    this.draining = true;
    // Hijacked replies (Server-Sent Events) never end by themselves.
    for (const reply of this.inFlight) if (reply.sent && !reply.raw.writableEnded) reply.raw.end();
    if (this.inFlight.size === 0) return 0;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.idle = null;
    return this.inFlight.size;
  }
}
