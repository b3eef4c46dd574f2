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
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function allows(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}
