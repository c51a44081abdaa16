// Token roles and what each may do. Pure: the API asks `allows(role, need)`.
export const ROLES = ['admin', 'operator', 'viewer', 'factory'] as const;
export type Role = (typeof ROLES)[number];

/** What a route needs. `read` = see data, `act` = change tasks, `admin` = manage tokens/factories, `fleet` = factory protocol. */
export type Permission = 'read' | 'act' | 'admin' | 'fleet';

const grants: Record<Role, ReadonlySet<Permission>> = {
  admin: new Set(['read', 'act', 'admin', 'fleet']),
  operator: new Set(['read', 'act']),
  viewer: new Set(['read']),
  factory: new Set(['fleet']),
};

export const allows = (role: Role, need: Permission): boolean => grants[role].has(need);
