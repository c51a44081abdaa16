// Factory capabilities: what a factory offers (auto-detected facts plus the operator's own words),
// and why a queued task no live factory can take is waiting. Pure.

/** The capability words a factory host offers by itself: os, arch, git version, installed agent CLIs. */
export function detectedCapabilities(f: { platform: string; arch: string; gitVersion: string | null; agents: readonly string[] }): string[] {
  const out = [`os:${f.platform}`, `arch:${f.arch}`];
  const git = f.gitVersion ? /(\d+)\.(\d+)/.exec(f.gitVersion) : null;
  if (git) out.push(`git:${git[1]}.${git[2]}`);
  for (const a of f.agents) out.push(`agent:${a}`);
  return out;
}

/** Operator words first, then detected ones; no duplicates. */
export function mergeCapabilities(...lists: ReadonlyArray<readonly string[]>): string[] {
  return [...new Set(lists.flat())];
}

export const CAPABILITY_RE = /^[A-Za-z0-9_.:=+/-]{1,100}$/;

export interface WaitFacts {
  capabilities: readonly string[];
  agent: string | null;
}

export interface WaitReason {
  kind: 'capabilities' | 'agent' | 'no_live_factory';
  message: string;
  missing: string[];
}

/**
 * Why a queued task cannot be taken by any live, non-draining factory — null when some factory
 * could take it. A factory that advertises no `agent:` capability at all says nothing about its
 * agents (a seed-contract client), so it is assumed to run any agent.
 */
export function whyWaiting(task: WaitFacts, factories: ReadonlyArray<{ capabilities: readonly string[] }>): WaitReason | null {
  if (factories.length === 0) return { kind: 'no_live_factory', message: 'no live factory is serving (start `gantry up` or a `gantry factory`)', missing: [] };
  const missingCaps = (f: { capabilities: readonly string[] }) => task.capabilities.filter((c) => !f.capabilities.includes(c));
  const runsAgent = (f: { capabilities: readonly string[] }) =>
    task.agent === null || f.capabilities.includes(`agent:${task.agent}`) || !f.capabilities.some((c) => c.startsWith('agent:'));
  if (factories.some((f) => missingCaps(f).length === 0 && runsAgent(f))) return null;
  const capable = factories.filter((f) => missingCaps(f).length === 0);
  if (capable.length > 0) {
    return { kind: 'agent', message: `no live factory runs the ${task.agent} agent (install its CLI on a factory host)`, missing: [`agent:${task.agent}`] };
  }
  // The fewest missing words over all factories is what an operator has to add somewhere.
  const best = factories.map(missingCaps).sort((a, b) => a.length - b.length)[0]!;
  return { kind: 'capabilities', message: `no live factory offers ${best.join(', ')} (start one with --cap ${best.join(',')})`, missing: best };
}
