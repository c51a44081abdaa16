// Time decider: with nothing new observed, has a session waited too long? Rule 7 by time.
import type { SessionRecord } from '../session.js';
import { ignore, patch, type Decision } from './decision.js';
import type { LifecyclePolicy } from './policy.js';

export function decideTick(rec: SessionRecord, now: number, policy: LifecyclePolicy): Decision {
  if (rec.state === 'detecting' && rec.detecting && now - rec.detecting.since >= policy.detectingAfterMs) {
    return patch({ state: 'stuck', reason: 'runtime_missing', detecting: null }, 'detecting_timed_out');
  }
  const a = rec.activity;
  if (rec.state === 'working' && a.state === 'idle' && a.confidence === 'valid' && a.since !== null && now - a.since >= policy.idleAfterMs) {
    return patch({ state: 'stuck', reason: 'idle_timeout' }, 'idle_timed_out');
  }
  return ignore('nothing_due');
}
