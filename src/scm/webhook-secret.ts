// Which secrets may sign a GitHub webhook delivery about a repository: GANTRY_GITHUB_WEBHOOK_SECRET (a
// process-wide secret, valid for every repository), else the `scm.github.webhookSecretFile` of each
// project whose repository (scm.github.repo, else its remote) is the delivery's — never another
// project's, so holding one project's secret does not let anyone speak for another's repository.
// Read per delivery (a rotated file takes effect at once) and never logged or returned.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { projectRepository } from '../domain/forge/webhook.js';
import { repoFromRemote } from '../domain/forge/verdicts.js';
import type { Project } from '../ports/store.js';

export interface WebhookSecrets {
  /** The secrets that may sign a delivery about the repository asked for. */
  secrets: string[];
  /** Whether any secret is configured at all (a refusal says which mistake it is, without naming repositories). */
  configured: boolean;
}

/** `repo`: the delivery's `repository.full_name` (any case), or null when it names none (only the process-wide secret can sign it). */
export function webhookSecrets(projects: readonly Pick<Project, 'path' | 'config' | 'remote'>[], repo: string | null, env: NodeJS.ProcessEnv = process.env): WebhookSecrets {
  const fromEnv = env.GANTRY_GITHUB_WEBHOOK_SECRET?.trim();
  if (fromEnv) return { secrets: [fromEnv], configured: true };
  const want = repo?.toLowerCase() ?? null;
  const out = new Set<string>();
  let configured = false;
  for (const p of projects) {
    const secret = secretOf(p);
    if (!secret) continue;
    configured = true;
    if (want !== null && projectRepository(p.config, p.remote, repoFromRemote) === want) out.add(secret);
  }
  return { secrets: [...out], configured };
}

function secretOf(p: Pick<Project, 'path' | 'config'>): string | null {
  const file = secretFileOf(p.config);
  if (!file) return null;
  const f = file.startsWith('~/') ? join(homedir(), file.slice(2)) : isAbsolute(file) ? file : join(p.path, file);
  try {
    return readFileSync(f, 'utf8').trim() || null;
  } catch {
    return null; // An unreadable file is that project's misconfiguration; its deliveries are refused (401).
  }
}

function secretFileOf(config: Record<string, unknown>): string | null {
  const scm = config.scm as { github?: { webhookSecretFile?: unknown } } | undefined;
  const f = scm?.github?.webhookSecretFile;
  return typeof f === 'string' && f ? f : null;
}
