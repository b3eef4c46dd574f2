/**
 * Whose data a request may touch. A commune user's scope is their commune; a
 * province user's (and the server's own work: scheduler, MQTT inbound) is the
 * whole province. Derived once per request in http/auth.ts from the signed-in
 * user and passed to every service call that reads or writes tenant data.
 *
 * In SQL a scope is one constant fragment, so statements stay cached:
 *   `... WHERE d.id = ? AND (? IS NULL OR d.commune_id = ?)`, `.get(id, ...inScope(scope))`
 */
export interface Scope {
  /** The commune whose data is visible; null: every commune (province). */
  readonly communeId: string | null;
}

/** The whole province: province users and the server's own background work. */
export const PROVINCE: Scope = Object.freeze({ communeId: null });

export function communeScope(communeId: string): Scope {
  return { communeId };
}

/** The two parameters of `(? IS NULL OR <column> = ?)`. */
export function inScope(scope: Scope): [string | null, string | null] {
  return [scope.communeId, scope.communeId];
}

/** True when a row of `communeId` is visible in `scope`. */
export function sees(scope: Scope, communeId: string): boolean {
  return scope.communeId === null || scope.communeId === communeId;
}
