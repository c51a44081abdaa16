// Pure: how the fleet page judges a factory between fetches.
import type { Factory } from '../api/types.js';

/** A factory's state now: live only while its last heartbeat is inside the stale window. */
export function factoryState(f: Factory, staleMs: number, serverNow: number): 'live' | 'stale' | 'draining' | 'enrolled' {
  if (f.state === 'enrolled' && f.lastHeartbeatAt === null) return 'enrolled';
  const live = f.lastHeartbeatAt !== null && serverNow - f.lastHeartbeatAt <= staleMs;
  if (!live) return 'stale';
  return f.drain ? 'draining' : 'live';
}
