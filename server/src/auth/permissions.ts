/**
 * Who may do what. Every API route names one permission (or is public); one
 * hook checks it. Roles follow the commune's reality: the leader approves and
 * may trigger emergencies, the culture officer writes and broadcasts, the
 * technician looks after loudspeakers, a viewer only looks.
 */
import type { Role } from './users';

export const PERMISSIONS = {
  'session:self': ['admin', 'approver', 'editor', 'technician', 'viewer'],
  'devices:read': ['admin', 'approver', 'editor', 'technician', 'viewer'],
  'devices:manage': ['admin', 'technician'],
  /**
   * Zones decide which loudspeakers a broadcast reaches: the technician's map of
   * the commune, not the notice writer's. An editor who could move a loudspeaker
   * between zones would change where approved schedules play without approval.
   */
  'zones:manage': ['admin', 'technician'],
  'broadcasts:read': ['admin', 'approver', 'editor', 'technician', 'viewer'],
  /**
   * Play now or at a time, straight to the loudspeakers: only those who may put
   * something on air without approval. An editor's notice goes through a
   * schedule and the approval queue.
   */
  'broadcasts:send': ['admin', 'approver'],
  'broadcasts:emergency': ['admin', 'approver'],
  'audit:read': ['admin', 'approver'],
  /** Content library, programmes and schedule drafts. */
  'content:write': ['admin', 'approver', 'editor'],
  /** Approve or reject others' schedules. */
  'schedules:approve': ['admin', 'approver'],
  /** Put a schedule on air without someone else's approval. */
  'schedules:publish': ['admin', 'approver'],
  'users:manage': ['admin'],
  /** Loudness target, TTS engine order and the cloud vendors' keys (paid accounts): the leaders. */
  'settings:manage': ['admin', 'approver'],
  /** The commune's abbreviations the normaliser reads out: whoever writes notices. */
  'dictionary:manage': ['admin', 'approver', 'editor'],
  /** The communes one may see: a province user all, a commune user their own. */
  'communes:read': ['admin', 'approver', 'editor', 'technician', 'viewer'],
  /** Create and rename communes (province only, see PROVINCE_ONLY). */
  'communes:manage': ['admin'],
  /** Bulletins from the province: a province user sees all, a commune user those sent to their commune. */
  'bulletins:read': ['admin', 'approver', 'editor', 'technician', 'viewer'],
  /** Write a bulletin for the communes (province only). */
  'bulletins:write': ['admin', 'approver', 'editor'],
  /** Approve a bulletin, or send one without someone else's approval (province only). */
  'bulletins:approve': ['admin', 'approver'],
  /** Place a normal bulletin into one of the commune's schedules, or decline it with a reason. */
  'bulletins:handle': ['admin', 'approver', 'editor'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

/** Permissions only a province user (no commune) holds, whatever the role. */
export const PROVINCE_ONLY: ReadonlySet<Permission> = new Set<Permission>([
  'communes:manage',
  'bulletins:write',
  'bulletins:approve',
]);

/** The roles a province user may have (Circular 39's source system: no technicians of its own). */
export const PROVINCE_ROLES: readonly Role[] = ['admin', 'approver', 'editor', 'viewer'];

export function allows(user: { role: Role; communeId: string | null }, permission: Permission): boolean {
  if (PROVINCE_ONLY.has(permission) && user.communeId !== null) return false;
  return (PERMISSIONS[permission] as readonly Role[]).includes(user.role);
}
