// A RuntimeProber for agents run as local child processes: probes the recorded pid. Runtimes with
// richer handles (a container, a remote factory) supply their own prober.
import { probePid } from '../lib/pid-probe.js';
import type { Clock } from '../ports/clock.js';
import type { RuntimeProber } from '../ports/lifecycle.js';

export function pidProber(clock: Clock = { now: () => Date.now() }): RuntimeProber {
  return {
    async probe(s) {
      const pid = s.runtime.pid;
      const state = pid === null ? 'unknown' : probePid(pid);
      return {
        value: { state, pid },
        confidence: state === 'unknown' ? 'unavailable' : 'valid',
        source: 'process',
        at: clock.now(),
        launchGeneration: s.launchGeneration,
      };
    },
  };
}
