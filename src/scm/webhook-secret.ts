// Which secrets a GitHub webhook delivery may be signed with: GANTRY_GITHUB_WEBHOOK_SECRET, else each
// project's `scm.github.webhookSecretFile`. Read per delivery (a rotated file takes effect at once) and
// never logged or returned.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { Project } from '../ports/store.js';

export function webhookSecrets(projects: readonly Pick<Project, 'path' | 'config'>[], env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = env.GANTRY_GITHUB_WEBHOOK_SECRET?.trim();
  if (fromEnv) return [fromEnv];
  const out = new Set<string>();
  for (const p of projects) {
    const file = secretFileOf(p.config);
    if (!file) continue;
    const f = file.startsWith('~/') ? join(homedir(), file.slice(2)) : isAbsolute(file) ? file : join(p.path, file);
    try {
      const text = readFileSync(f, 'utf8').trim();
      if (text) out.add(text);
    } catch {
      // An unreadable file is that project's misconfiguration; its deliveries are refused (401).
    }
  }
  return [...out];
}

function secretFileOf(config: Record<string, unknown>): string | null {
  const scm = config.scm as { github?: { webhookSecretFile?: unknown } } | undefined;
  const f = scm?.github?.webhookSecretFile;
  return typeof f === 'string' && f ? f : null;
}
