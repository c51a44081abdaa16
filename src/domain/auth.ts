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
