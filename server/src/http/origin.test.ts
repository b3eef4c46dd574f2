import { describe, expect, it } from 'vitest';
import { isSameOrigin } from './origin';

describe('isSameOrigin', () => {
  it('accepts the server’s own origin, over HTTP or HTTPS', () => {
    expect(isSameOrigin('http://127.0.0.1:8080', '127.0.0.1:8080')).toBe(true);
    expect(isSameOrigin('https://loa.xa.vn', 'loa.xa.vn')).toBe(true);
  });

  it.each(['https://evil.example', 'http://127.0.0.1:9999', 'null', '', 'not a url', 'data:text/html,x', 'file:///x'])(
    'refuses %j without throwing',
    (origin) => {
      expect(isSameOrigin(origin, '127.0.0.1:8080')).toBe(false);
    },
  );
});
