// Finding an agent CLI: an explicit path (gantry.yaml), then Gantry's own node_modules/.bin (where
// pinned dev/test installs live), then PATH.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ownBin = fileURLToPath(new URL('../../node_modules/.bin/', import.meta.url));

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
  const candidates = [join(ownBin, name), ...(env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, name))];
  return candidates.find(executable) ?? null;
}
