/**
 * The "any HTTP load balancer" in front of the server instances, for the
 * cluster tests: a TCP proxy on a free loopback port that sends each new
 * connection to the next instance in turn and, when an instance refuses the
 * connection (it died), to the one after. Like nginx's `proxy_next_upstream
 * error`: a request on a connection that was already open when its instance
 * died fails, and the client tries again.
 */
import net from 'node:net';

export interface Balancer {
  url: string;
  close(): Promise<void>;
}

export async function startBalancer(upstreams: readonly { host: string; port: number }[]): Promise<Balancer> {
  let next = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.pause();
    const tryFrom = (tries: number) => {
      if (tries >= upstreams.length) {
        client.destroy();
        return;
      }
      const target = upstreams[next++ % upstreams.length]!;
      const upstream = net.connect(target.port, target.host);
      upstream.setNoDelay(true);
      let connected = false;
      upstream.once('error', () => {
        if (!connected) tryFrom(tries + 1);
        else client.destroy();
      });
      upstream.once('connect', () => {
        connected = true;
        sockets.add(upstream);
        upstream.on('close', () => {
          sockets.delete(upstream);
          client.destroy();
        });
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    tryFrom(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
