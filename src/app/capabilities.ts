// What this host offers a fleet by itself (os, arch, git version, installed agent CLIs), merged with
// the operator's `--cap` words. The words are pure data (src/fleet/capabilities.ts); this is the I/O.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { GantryError } from '../domain/errors.js';
import { detectAll } from '../agents/registry.js';
import { CAPABILITY_RE, detectedCapabilities, mergeCapabilities } from '../fleet/capabilities.js';

const run = promisify(execFile);

export async function hostCapabilities(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const [git, agents] = await Promise.all([
    run('git', ['--version'], { env, timeout: 5_000 }).then((r) => r.stdout.trim(), () => null),
    detectAll({ env }).then((ds) => ds.filter((d) => d.installed).map((d) => d.id), () => []),
  ]);
  return detectedCapabilities({ platform: process.platform, arch: process.arch, gitVersion: git, agents });
}

/** The operator's words (checked, a bad one named) followed by what the host detects. */
export async function factoryCapabilities(operator: readonly string[], o: { detect?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<string[]> {
  for (const c of operator) {
    if (!CAPABILITY_RE.test(c)) {
      throw new GantryError('validation', `capability "${c}" is not a plain word`, { field: 'cap', hint: 'use letters, digits and _ . : = + / - only (at most 100 characters), e.g. --cap gpu,linux' });
    }
  }
  return mergeCapabilities(operator, o.detect === false ? [] : await hostCapabilities(o.env));
}
