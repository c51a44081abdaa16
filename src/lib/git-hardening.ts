// Hardened git (DESIGN §9): the environment every git command Gantry runs gets, so that nothing a
// repository's own config or directory names — hooks, core.fsmonitor, filter/merge/diff drivers,
// credential helpers, sshCommand, askPass, pager, editor, signing programs, exotic transports — is
// ever executed by Gantry. An agent can write into a repository's config and hooks; Gantry's git must
// behave the same whatever it planted. Pure: the I/O (reading the config) is the caller's.
//
// Overrides travel as GIT_CONFIG_COUNT/KEY_n/VALUE_n, git's "command" scope, which beats every
// config file, and leaves argv alone.

/** One entry of `git config --list --show-scope`. */
export interface ConfigEntry {
  scope: string;
  key: string;
  value: string;
}

/** Settings that are always pinned, whatever any config says. */
export const FIXED_OVERRIDES: readonly (readonly [string, string])[] = [
  ['core.hooksPath', '/dev/null'],
  ['core.fsmonitor', 'false'],
  ['core.untrackedCache', 'false'],
  ['core.pager', 'cat'],
  ['commit.gpgSign', 'false'],
  ['tag.gpgSign', 'false'],
  ['push.gpgSign', 'false'],
  ['gc.auto', '0'],
  ['maintenance.auto', 'false'],
  ['protocol.ext.allow', 'never'],
  ['safe.bareRepository', 'all'],
];

/** Transports Gantry's git may use: no `ext::` (runs a command), no remote helpers named by a planted URL. */
export const ALLOWED_PROTOCOLS = 'file:http:https:ssh:git';

/** Scopes an agent working in a repository can write: its config files (and what they include). */
const WRITABLE_SCOPES = new Set(['local', 'worktree']);

/** Keys naming programs git would run, matched on the lower-cased key, with the value that disarms them. */
const PROGRAM_KEYS: readonly { re: RegExp; disarm: string }[] = [
  // An empty clean/smudge/process command means "no filter"; a required filter would then fail.
  { re: /^filter\..+\.(clean|smudge|process)$/, disarm: '' },
  { re: /^filter\..+\.required$/, disarm: 'false' },
  // A custom merge driver that refuses: the file is reported as conflicting, never merged by a planted program.
  { re: /^merge\..+\.driver$/, disarm: 'false' },
  { re: /^diff\..+\.(textconv|command)$/, disarm: 'cat' },
  { re: /^diff\.external$/, disarm: 'cat' },
];

/** Multi-valued keys whose repository values are dropped while the user's own (global, system) stay. */
const HELPER_KEYS = /^credential\.(.+\.)?helper$/;

/**
 * The overrides for a repository whose config lists `entries`: the fixed ones, every program-naming
 * key from a writable scope disarmed, and credential helpers reset to the non-repository ones.
 */
export function hardeningOverrides(entries: readonly ConfigEntry[]): [string, string][] {
  const out: [string, string][] = FIXED_OVERRIDES.map(([k, v]) => [k, v]);
  const seen = new Set<string>();
  for (const e of entries) {
    if (!WRITABLE_SCOPES.has(e.scope)) continue;
    const key = e.key.toLowerCase();
    if (seen.has(key)) continue;
    const rule = PROGRAM_KEYS.find((r) => r.re.test(key));
    if (rule) {
      seen.add(key);
      out.push([e.key, rule.disarm]);
      continue;
    }
    if (HELPER_KEYS.test(key)) {
      seen.add(key);
      out.push([e.key, '']); // an empty value resets the list …
      for (const o of entries) if (!WRITABLE_SCOPES.has(o.scope) && o.key.toLowerCase() === key && o.value) out.push([e.key, o.value]); // … then the user's come back
    }
  }
  return out;
}

/** Whether the config includes other files: then a cached reading cannot be trusted (the included file may change). */
export const hasIncludes = (entries: readonly ConfigEntry[]): boolean =>
  entries.some((e) => WRITABLE_SCOPES.has(e.scope) && /^include(if\..+)?\.path$/.test(e.key.toLowerCase()));

/** Parses `git config --list --show-scope -z` (scope NUL key LF value NUL …). */
export function parseScopedConfig(out: string): ConfigEntry[] {
  const parts = out.split('\0');
  const entries: ConfigEntry[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const scope = parts[i]!;
    const kv = parts[i + 1]!;
    const nl = kv.indexOf('\n');
    entries.push({ scope, key: nl < 0 ? kv : kv.slice(0, nl), value: nl < 0 ? '' : kv.slice(nl + 1) });
  }
  return entries;
}

/**
 * The environment variables that carry the overrides, plus the ones that beat config for programs git
 * would otherwise take from it (ssh command, askpass, editor, pager) and the transport allowlist.
 * `inherited` is Gantry's own environment: a user's GIT_SSH_COMMAND keeps working.
 */
export function hardeningEnv(overrides: readonly (readonly [string, string])[], inherited: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = {
    GIT_CONFIG_COUNT: String(overrides.length),
    GIT_SSH_COMMAND: inherited.GIT_SSH_COMMAND ?? inherited.GIT_SSH ?? 'ssh',
    GIT_ASKPASS: inherited.GIT_ASKPASS ?? '',
    GIT_EDITOR: ':',
    GIT_SEQUENCE_EDITOR: ':',
    GIT_PAGER: 'cat',
    GIT_ALLOW_PROTOCOL: inherited.GIT_ALLOW_PROTOCOL ?? ALLOWED_PROTOCOLS,
    GIT_TERMINAL_PROMPT: '0',
    GIT_NO_REPLACE_OBJECTS: '1',
  };
  overrides.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k;
    env[`GIT_CONFIG_VALUE_${i}`] = v;
  });
  return env;
}
