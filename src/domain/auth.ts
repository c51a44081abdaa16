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

/**
 * Whether a caller may report evidence about a session (`POST /api/sessions/:id/observations`):
 * people's roles always; a factory only about a session it runs, and — when the session belongs to a
 * task — only while it holds that task's live lease (what another factory's session does is not its
 * to say, and a fenced-off holder's word is stale). Pure.
 */
export function mayReportOnSession(
  session: { taskId: string | null; factoryId: string | null },
  task: { leaseFactoryId: string | null; leaseExpiresAt: number | null } | null,
  caller: { role: Role; factoryId: string | null } | null,
  now: number,
): boolean {
  if (!caller || caller.role !== 'factory') return true;
  if (caller.factoryId === null || session.factoryId !== caller.factoryId) return false;
  if (session.taskId === null) return true;
  return task !== null && mayReadTaskBody(task, caller, now);
}
