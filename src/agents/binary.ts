// Finding an agent CLI: an explicit path (gantry.yaml), else PATH.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function resolveBinary(name: string, explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string | null {
  if (explicit) return explicit.includes('/') ? (executable(explicit) ? explicit : null) : resolveBinary(explicit, undefined, env);
  const candidates = (env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, name));
  return candidates.find(executable) ?? null;
}
