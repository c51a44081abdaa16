// Which process sandbox this host offers: a bwrap binary (GANTRY_BWRAP, else PATH) that can actually
// create its namespaces here (probed once per binary: containers without user namespaces fail).
import { execFileSync } from 'node:child_process';
import { decideSandbox, type SandboxDecision, type SandboxHost } from '../../domain/sandbox.js';
import { resolveBinary } from '../binary.js';

const probes = new Map<string, string | null>();

function probe(bwrap: string): string | null {
  const known = probes.get(bwrap);
  if (known !== undefined) return known;
  let error: string | null = null;
  try {
    execFileSync(bwrap, ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-all', '--die-with-parent', 'true'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    error = stderr || (e as Error).message;
  }
  probes.set(bwrap, error);
  return error;
}

export function sandboxHost(env: NodeJS.ProcessEnv = process.env): SandboxHost {
  const bwrap = env.GANTRY_BWRAP ? resolveBinary(env.GANTRY_BWRAP, env.GANTRY_BWRAP, env) : resolveBinary('bwrap', undefined, env);
  return { platform: process.platform, bwrap, probeError: bwrap ? probe(bwrap) : null };
}

export function hostSandbox(configured: 'auto' | 'required' | 'off', env: NodeJS.ProcessEnv = process.env): SandboxDecision & { bwrap: string | null } {
  const host = sandboxHost(env);
  return { ...decideSandbox(host, configured), bwrap: host.bwrap };
}
