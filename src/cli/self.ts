// How this user runs Gantry, so every command Gantry suggests can be pasted as printed: `gantry`
// when that name on PATH is this installation, `npx gantry` under npx, `npm run gantry --` under
// npm run, otherwise `node <path to bin/gantry.js>`. GANTRY_SELF overrides the guess.
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, isAbsolute, join, relative } from 'node:path';

/** Every top-level command, so only suggested commands are rewritten (a test keeps it complete). */
export const COMMAND_NAMES = [
  'up', 'init', 'add', 'ls', 'show', 'doctor', 'config', 'approve', 'retry', 'merge', 'hold', 'changes', 'answer', 'review', 'restart',
  'reject', 'cancel', 'checkpoints', 'diff', 'gc', 'rollback', 'factory', 'factories', 'requeue', 'ship', 'sessions', 'reply', 'project',
  'notifications', 'logs', 'wait', 'completion', 'attach', 'demo', 'help',
] as const;

export interface InvocationFacts {
  /** Real path of the script node runs (process.argv[1]). */
  script: string;
  /** Real path of the first `gantry` executable on PATH, if any. */
  onPath: string | null;
  /** npm's `npm_command` and `npm_lifecycle_event` when npm started us. */
  npmCommand?: string | undefined;
  npmEvent?: string | undefined;
  cwd: string;
  override?: string | undefined;
}

/** The command prefix a user can paste. Pure. */
export function decideSelf(f: InvocationFacts): string {
  if (f.override) return f.override;
  if (f.onPath && f.onPath === f.script) return 'gantry';
  if (f.npmCommand === 'exec') return 'npx gantry';
  if (f.npmCommand === 'run-script' && f.npmEvent === 'gantry') return 'npm run gantry --';
  const rel = relative(f.cwd, f.script);
  return `node ${rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : f.script}`;
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

function firstOnPath(name: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return real(p);
    } catch {
      // not here
    }
  }
  return null;
}

let cached: string | undefined;

export function selfCommand(env: NodeJS.ProcessEnv = process.env): string {
  cached ??= decideSelf({
    script: real(process.argv[1] ?? 'gantry'),
    onPath: firstOnPath('gantry', env),
    npmCommand: env.npm_command,
    npmEvent: env.npm_lifecycle_event,
    cwd: process.cwd(),
    override: env.GANTRY_SELF,
  });
  return cached;
}

const SUGGESTED = new RegExp(`(^|[\\s\`'"(])gantry (?=(?:${COMMAND_NAMES.join('|')})\\b)`, 'gm');

/** Rewrites the commands a text suggests (`gantry approve …`) into the form this user has. */
export function localize(text: string, self: () => string = selfCommand): string {
  if (!text.includes('gantry ')) return text;
  const s = self();
  return s === 'gantry' ? text : text.replace(SUGGESTED, `$1${s} `);
}
