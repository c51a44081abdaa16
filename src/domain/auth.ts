// Token roles and what each may do. Pure: the API asks `allows(role, need)`.
export const ROLES = ['admin', 'operator', 'viewer', 'factory', 'metrics'] as const;
export type Role = (typeof ROLES)[number];

/**
 * What a route needs. `read` = see data, `act` = change tasks, `admin` = manage tokens/factories,
 * `fleet` = factory protocol, `metrics` = scrape /metrics (a `metrics` token can do nothing else).
 */
export type Permission = 'read' | 'act' | 'admin' | 'fleet' | 'metrics';

const grants: Record<Role, ReadonlySet<Permission>> = {
  admin: new Set(['read', 'act', 'admin', 'fleet', 'metrics']),
  operator: new Set(['read', 'act', 'metrics']),
  viewer: new Set(['read', 'metrics']),
  factory: new Set(['fleet']),
  metrics: new Set(['metrics']),
};

export const allows = (role: Role, need: Permission): boolean => grants[role].has(need);

/**
 * Whether a caller may read a task's body (its brief, which may hold anything the submitter wrote):
 * people's roles always (the route already checked them); a factory only while it holds the live
 * lease — what it needs to do the work, and nothing of work it does not hold. Pure.
 */
export function mayReadTaskBody(
  task: { leaseFactoryId: string | null; leaseExpiresAt: number | null },
  caller: { role: Role; factoryId: string | null } | null,
  now: number,
): boolean {
  if (!caller || caller.role !== 'factory') return true;
  return caller.factoryId !== null && task.leaseFactoryId === caller.factoryId && (task.leaseExpiresAt ?? 0) > now;
}
