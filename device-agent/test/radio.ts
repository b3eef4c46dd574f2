/**
 * A stand-in for a radio's Icecast server on loopback: serves an endless
 * audio-like byte stream and records each listener's connection, so tests
 * can check how long a relay listened and what it sent.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listener {
  path: string;
  headers: IncomingHttpHeaders;
  openedAt: number;
  closedAt?: number;
  bytes: number;
}

export interface TestRadio {
  /** http://127.0.0.1:<port> */
  url: string;
  listeners: Listener[];
  close(): Promise<void>;
}

/**
 * `/live` streams 1,600 bytes every 100 ms until the listener leaves;
 * `/drop-once` ends the first connection after `dropAfterMs`, then streams
 * like `/live`; anything else is 404.
 */
export async function startTestRadio(dropAfterMs = 700): Promise<TestRadio> {
  const listeners: Listener[] = [];
  let dropped = false;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path !== '/live' && path !== '/drop-once') {
      res.writeHead(404).end('no such mount');
      return;
    }
    const listener: Listener = { path, headers: req.headers, openedAt: Date.now(), bytes: 0 };
    listeners.push(listener);
    res.writeHead(200, { 'content-type': 'audio/mpeg', 'icy-name': 'Test radio' });
    const chunk = Buffer.alloc(1600, 0xff);
    const tick = setInterval(() => {
      listener.bytes += chunk.length;
      res.write(chunk);
    }, 100);
    const end = () => {
      clearInterval(tick);
      listener.closedAt ??= Date.now();
    };
    res.on('close', end);
    if (path === '/drop-once' && !dropped) {
      dropped = true;
      setTimeout(() => {
        end();
        res.destroy();
      }, dropAfterMs);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    listeners,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
