/**
 * The bank connections an operator assigned to each tenant (`BANK_SBX_CONNECTIONS_JSON`):
 * tenant id -> connection ids. A tenant's sources may use these connections only.
 */
export type ConnectionAssignments = Readonly<Record<string, readonly string[]>>;

/** Whether `connectionId` is assigned to `tenant` (a tenant absent from the map has none). */
export function isConnectionAssigned(assignments: ConnectionAssignments, tenant: string, connectionId: string): boolean {
  // Own keys only: a tenant id such as `constructor` must not find Object.prototype's.
  return Object.hasOwn(assignments, tenant) && (assignments[tenant] ?? []).includes(connectionId);
}
