/**
 * Who may do what, as the server decides it (server/src/auth/permissions.ts).
 * The console only uses it to hide what a role cannot do; the server still
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
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function allows(role: Role | undefined, permission: Permission): boolean {
  return !!role && (PERMISSIONS[permission] as readonly Role[]).includes(role);
}
