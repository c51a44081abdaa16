// Real git through execFile/spawn, never a shell: arguments are passed as a vector, so paths and refs
// can hold any character. Inherited GIT_* variables that would redirect git (a hook's GIT_DIR, a
// caller's GIT_INDEX_FILE) are scrubbed so each call targets exactly the repository it names.
import { spawn } from 'node:child_process';
import { GantryError } from '../domain/errors.js';

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

const REDIRECTING = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_COMMON_DIR', 'GIT_PREFIX', 'GIT_NAMESPACE'];

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

export function git(args: readonly string[], opts: GitOptions): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: opts.cwd, env: { ...scrubbedEnv(), ...(opts.env ?? {}) }, stdio: ['pipe', 'pipe', 'pipe'] });
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
