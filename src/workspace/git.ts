// Real git through execFile/spawn, never a shell: arguments are passed as a vector, so paths and refs
// can hold any character. Inherited GIT_* variables that would redirect git (a hook's GIT_DIR, a
// caller's GIT_INDEX_FILE) are scrubbed so each call targets exactly the repository it names.
// Every call is hardened (src/lib/git-hardening.ts): no hook, fsmonitor, filter, merge or diff driver,
// credential helper or ssh command from the repository's own config ever runs — an agent may have
// planted them. This is the one place Gantry's git gets its environment.
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { GantryError } from '../domain/errors.js';
import { hardeningEnv, hardeningOverrides, hasIncludes, parseScopedConfig } from '../lib/git-hardening.js';
import { gitDirsOf } from './git-paths.js';

export interface GitOptions {
  cwd: string;
  /** Extra variables (GIT_INDEX_FILE for a private index …), layered over the scrubbed environment. */
  env?: Record<string, string>;
  /** Bytes for stdin. */
  input?: string | Buffer;
  /** Exit codes that are answers rather than failures (e.g. 1 for `diff --quiet`). */
  okCodes?: number[];
}

export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

const REDIRECTING = [
  'GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_COMMON_DIR', 'GIT_PREFIX', 'GIT_NAMESPACE', 'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_CONFIG', 'GIT_CONFIG_PARAMETERS', 'GIT_CONFIG_COUNT', 'GIT_EXTERNAL_DIFF', 'GIT_EXEC_PATH',
];

// Fixed identity for the commits Gantry writes itself (checkpoints), so no user config is needed.
const IDENTITY = {
  GIT_AUTHOR_NAME: 'gantry',
  GIT_AUTHOR_EMAIL: 'gantry@localhost',
  GIT_COMMITTER_NAME: 'gantry',
  GIT_COMMITTER_EMAIL: 'gantry@localhost',
};

let baseEnv: Record<string, string> | undefined;
function scrubbedEnv(): Record<string, string> {
  if (!baseEnv) {
    baseEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !REDIRECTING.includes(k)) baseEnv[k] = v;
    baseEnv.GIT_TERMINAL_PROMPT = '0';
    baseEnv.GIT_OPTIONAL_LOCKS = '0';
    Object.assign(baseEnv, IDENTITY);
  }
  return baseEnv;
}

/** git's own reason: its last fatal/error (and push rejection) lines, advice paragraphs follow them; else its last lines. At most three. */
function gitReason(stderr: string): string {
  const lines = stderr.trim().split('\n');
  const reasons = lines.filter((l) => /^(fatal|error): |^ ! /.test(l));
  return (reasons.length > 0 ? reasons : lines).slice(-3).join(' | ');
}

export class GitError extends GantryError {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super('internal', `git ${args.slice(0, 3).join(' ')} failed (${exitCode}): ${gitReason(stderr)}`, {
      hint: 'check the repository state with `git status` in the workspace',
    });
  }
}

// ---- hardening -------------------------------------------------------------------------------

const FIXED_ENV = () => hardeningEnv(hardeningOverrides([]), process.env);

/** The config files whose change invalidates a cached reading of a repository at `cwd`. */
function configStamp(cwd: string): string | null {
  const { own, common } = gitDirsOf(cwd);
  const files = [join(common, 'config'), join(own, 'config.worktree'), join(cwd, 'config')];
  let found = false;
  const stamp = files.map((f) => {
    try {
      const st = statSync(f);
      found = true;
      return `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      return '-';
    }
  });
  return found ? stamp.join('|') : null;
}

const hardenedCache = new Map<string, { stamp: string; env: Record<string, string> }>();

/** The hardened environment for git run in `cwd`: fixed overrides plus the repository's program-naming keys disarmed. */
export async function hardenedEnvFor(cwd: string): Promise<Record<string, string>> {
  const stamp = configStamp(cwd);
  const hit = hardenedCache.get(cwd);
  if (stamp && hit && hit.stamp === stamp) return hit.env;
  const r = await spawnGit(['config', '--list', '--show-scope', '-z'], { cwd, okCodes: [1, 128] }, FIXED_ENV()).catch(() => ({ code: -1, stdout: '' }));
  const entries = r.code === 0 ? parseScopedConfig(r.stdout) : [];
  const env = hardeningEnv(hardeningOverrides(entries), process.env);
  if (stamp && !hasIncludes(entries)) {
    if (hardenedCache.size > 500) hardenedCache.clear();
    hardenedCache.set(cwd, { stamp, env });
  }
  return env;
}

export async function git(args: readonly string[], opts: GitOptions): Promise<GitResult> {
  return spawnGit(args, opts, await hardenedEnvFor(opts.cwd));
}

function spawnGit(args: readonly string[], opts: GitOptions, hardening: Record<string, string>): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: opts.cwd, env: { ...scrubbedEnv(), ...hardening, ...(opts.env ?? {}) }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.stdin.on('error', () => undefined); // git may exit before reading all input; its exit code tells
    child.on('close', (code) => {
      const r = { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code: code ?? -1 };
      if (r.code === 0 || opts.okCodes?.includes(r.code)) resolve(r);
      else reject(new GitError(args, r.code, r.stderr));
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** stdout trimmed of its final newline. */
export async function gitOut(args: readonly string[], opts: GitOptions): Promise<string> {
  return (await git(args, opts)).stdout.replace(/\n$/, '');
}

/** NUL-separated output split into records (for `-z` commands). */
export const splitZ = (s: string): string[] => s.split('\0').filter((x) => x.length > 0);
