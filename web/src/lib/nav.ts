/**
 * The console's pages, in menu order. A page shows in the menu only when the
 * signed-in user may use it (role, and province or commune: see
 * permissions.ts) and the server offers the API it needs, so a slot for a page
 * still being built appears by itself once its API exists.
 */
import { API_OPERATIONS } from './api-types';
import { allows, type Permission, type Who } from './permissions';

export interface NavItem {
  path: string;
  /** i18n key of the menu label (also the page title). */
  label: string;
  icon: string;
  permission: Permission;
  /** "METHOD /path" the page cannot work without. */
  requires: string;
  /** A page not built yet: a slot that says so. */
  placeholder?: boolean;
  /** Only for province users (no commune) or only for commune users; both when absent. */
  audience?: 'province' | 'commune';
}

export const NAV: readonly NavItem[] = [
  { path: '/', label: 'nav.dashboard', icon: '◧', permission: 'devices:read', requires: 'GET /api/v1/devices' },
  { path: '/devices', label: 'nav.devices', icon: '◉', permission: 'devices:read', requires: 'GET /api/v1/zones' },
  {
    path: '/broadcast',
    label: 'nav.broadcast',
    icon: '▶',
    permission: 'broadcasts:send',
    requires: 'POST /api/v1/broadcasts',
  },
  // The officer's voice, live: needs a microphone and WebCodecs Opus (the page says when the browser lacks them).
  { path: '/live', label: 'nav.live', icon: '●', permission: 'broadcasts:send', requires: 'POST /api/v1/live' },
  {
    path: '/deliveries',
    label: 'nav.deliveries',
    icon: '▦',
    permission: 'broadcasts:read',
    requires: 'GET /api/v1/occurrences/{id}',
  },
  {
    path: '/alerts',
    label: 'nav.alerts',
    icon: '⚠',
    permission: 'broadcasts:read',
    requires: 'GET /api/v1/alerts',
  },
  // Slots for pages whose APIs are being written; hidden until the server has them.
  // The province's bulletins: written and followed by the province, an inbox for a commune.
  {
    path: '/bulletins',
    label: 'nav.bulletins',
    icon: '✉',
    permission: 'bulletins:read',
    requires: 'GET /api/v1/bulletins',
    audience: 'province',
  },
  {
    path: '/bulletins',
    label: 'nav.inbox',
    icon: '✉',
    permission: 'bulletins:read',
    requires: 'GET /api/v1/bulletins',
    audience: 'commune',
  },
  {
    path: '/content',
    label: 'nav.content',
    icon: '✎',
    permission: 'content:write',
    requires: 'GET /api/v1/content',
  },
  {
    path: '/programmes',
    label: 'nav.programmes',
    icon: '≡',
    permission: 'broadcasts:read',
    requires: 'GET /api/v1/programmes',
  },
  {
    path: '/schedules',
    label: 'nav.schedules',
    icon: '▤',
    permission: 'broadcasts:read',
    requires: 'GET /api/v1/schedules',
  },
  {
    path: '/approvals',
    label: 'nav.approvals',
    icon: '✓',
    permission: 'broadcasts:emergency',
    requires: 'GET /api/v1/approvals',
  },
  {
    path: '/reports',
    label: 'nav.reports',
    icon: '∑',
    permission: 'broadcasts:read',
    requires: 'GET /api/v1/reports/devices',
  },
  {
    path: '/settings',
    label: 'nav.settings',
    icon: '⚙',
    // An editor sees the page for the abbreviation dictionary; engines and loudness need settings:manage.
    permission: 'dictionary:manage',
    requires: 'GET /api/v1/dictionary',
  },
  {
    path: '/communes',
    label: 'nav.communes',
    icon: '⌂',
    permission: 'communes:manage',
    requires: 'GET /api/v1/communes',
  },
  { path: '/users', label: 'nav.users', icon: '☺', permission: 'users:manage', requires: 'GET /api/v1/users' },
  { path: '/audit', label: 'nav.audit', icon: '☰', permission: 'audit:read', requires: 'GET /api/v1/audit' },
];

/** The menu for a user (role and commune), given the operations the server offers. */
export function visibleNav(
  user: Who | null | undefined,
  operations: readonly string[] = API_OPERATIONS,
  items: readonly NavItem[] = NAV,
): NavItem[] {
  const offered = new Set(operations);
  const audience = user?.communeId === null ? 'province' : 'commune';
  return items.filter(
    (item) =>
      allows(user, item.permission) &&
      offered.has(item.requires) &&
      (item.audience === undefined || item.audience === audience),
  );
}

/** The menu entry for a path; unknown paths fall back to the dashboard. */
export function pageFor(path: string, visible: readonly NavItem[]): NavItem | undefined {
  return visible.find((item) => item.path === path);
}
