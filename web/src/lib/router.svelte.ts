/**
 * Hash routing ("#/devices"): works from the static files with no server
 * rewrite rules, and the back button and bookmarks behave.
 */
export const router = $state({ path: readPath() });

function readPath(): string {
  if (typeof location === 'undefined') return '/';
  const path = location.hash.replace(/^#/, '').split('?')[0] ?? '';
  return path.startsWith('/') ? path : '/';
}

if (typeof window !== 'undefined') {
  window.addEventListener('hashchange', () => {
    router.path = readPath();
  });
}

export function navigate(path: string): void {
  if (location.hash !== `#${path}`) location.hash = path;
  router.path = path;
}

export function href(path: string): string {
  return `#${path}`;
}
