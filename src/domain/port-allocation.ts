// Which port a new workspace gets: the lowest in the configured range that no live workspace holds
// and that was not found busy on the host.
import { GantryError } from './errors.js';

export function pickPort(range: { from: number; to: number }, taken: ReadonlySet<number>): number {
  for (let p = range.from; p <= range.to; p++) if (!taken.has(p)) return p;
  throw new GantryError('conflict', `no free port in ${range.from}-${range.to}: every port is held by a live workspace or busy`, {
    hint: 'widen workspace.ports in gantry.yaml, or tear down finished workspaces with `gantry gc`',
  });
}
