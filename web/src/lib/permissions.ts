/**
 * Who may do what, as the server decides it (server/src/auth/permissions.ts).
 * The console only uses it to hide what a user cannot do; the server still
 * checks every call. web/test/api-contract.test.ts keeps this copy equal.
 */
import type { Role } from './api';

export const PERMISSIONS = {
  'session:self': ['admin', 'approver', 'editor', 'technician', 'viewer'],
  'devices:read': ['admin', 'approver', 'editor', 'technician', 'viewer'],
  'devices:manage': ['admin', 'technician'],
  'zones:manage': ['admin', 'technician'],
  'broadcasts:read': ['admin', 'approver', 'editor', 'technician', 'viewer'],
  'broadcasts:send': ['admin', 'approver'],
  'broadcasts:emergency': ['admin', 'approver'],
  'audit:read': ['admin', 'approver'],
  'content:write': ['admin', 'approver', 'editor'],
  'schedules:approve': ['admin', 'approver'],
  'schedules:publish': ['admin', 'approver'],
  'users:manage': ['admin'],
  'settings:manage': ['admin', 'approver'],
  'dictionary:manage': ['admin', 'approver', 'editor'],
  'communes:read': ['admin', 'approver', 'editor', 'technician', 'viewer'],
  'communes:manage': ['admin'],
  'bulletins:read': ['admin', 'approver', 'editor', 'technician', 'viewer'],
  'bulletins:write': ['admin', 'approver', 'editor'],
  'bulletins:approve': ['admin', 'approver'],
  'bulletins:handle': ['admin', 'approver', 'editor'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

/** Held only by a province user (no commune), whatever the role: a commune user never has them. */
export const PROVINCE_ONLY: ReadonlySet<Permission> = new Set<Permission>([
  'communes:manage',
  'bulletins:write',
  'bulletins:approve',
]);

/** The roles a province user may have (no technicians of its own). */
export const PROVINCE_ROLES = ['admin', 'approver', 'editor', 'viewer'] as const satisfies readonly Role[];

/** Who asks: the role, and the commune (null: a province user). */
export interface Who {
  role: Role;
  communeId: string | null;
}

export function allows(user: Who | null | undefined, permission: Permission): boolean {
  if (!user) return false;
  if (PROVINCE_ONLY.has(permission) && user.communeId !== null) return false;
  return (PERMISSIONS[permission] as readonly Role[]).includes(user.role);
}

/** A province user acts across every commune (null commune). */
export function isProvince(user: Who | null | undefined): boolean {
  return !!user && user.communeId === null;
}
