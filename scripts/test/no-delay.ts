import type net from 'node:net';

/**
 * Whether Nagle is off on `socket`, as far as Node says: it has no getsockopt, but records what
 * it set on the handle (TCP_NODELAY) in the socket's own `kSetNoDelay` symbol, in every path
 * (setNoDelay, a server's noDelay option). Undefined when this Node keeps it elsewhere: the
 * caller then skips (skipForEnvironment) rather than pass without looking.
 */
export function recordedNoDelay(socket: net.Socket): boolean | undefined {
  const key = Object.getOwnPropertySymbols(socket).find((k) => k.description === 'kSetNoDelay');
  return key === undefined ? undefined : Boolean((socket as unknown as Record<symbol, unknown>)[key]);
}
