// The environment an agent child process gets: a scrubbed allowlist of the parent's variables,
// plus the agent's own auth/endpoint variables, plus what Gantry adds for this session. Inherited
// agent markers (CLAUDECODE makes Claude Code refuse a "nested" launch) and Gantry's own variables
// (tokens, database URLs) never leak into an agent. Pure: table-tested.

/** Variables every process needs to behave normally (locale, home, proxies, CA bundles). */
const BASE = new Set([
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TERM', 'TMPDIR', 'TZ', 'COLORTERM',
  'SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_EXTRA_CA_CERTS', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY',
  'http_proxy', 'https_proxy', 'no_proxy', 'GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME',
  'GIT_COMMITTER_EMAIL', 'CI',
]);
const BASE_PREFIXES = ['LC_', 'XDG_'];

/** Never passed through, whatever an adapter's pass-through list says. */
const DENY = new Set(['CLAUDECODE', 'CLAUDE_CODE_ENTRYPOINT', 'CLAUDE_CODE_SSE_PORT', 'CODEX_SANDBOX', 'CODEX_SANDBOX_NETWORK_DISABLED']);
const DENY_PREFIXES = ['GANTRY_'];

export interface EnvPolicy {
  /** Exact names or `PREFIX_*` patterns of the agent's own auth and endpoint variables. */
  passThrough: readonly string[];
}

const matches = (name: string, pattern: string): boolean =>
  pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;

export function isDenied(name: string): boolean {
  return DENY.has(name) || DENY_PREFIXES.some((p) => name.startsWith(p));
}

export function agentEnv(
  parent: Readonly<Record<string, string | undefined>>,
  policy: EnvPolicy,
  additions: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined || isDenied(name)) continue;
    const base = BASE.has(name) || BASE_PREFIXES.some((p) => name.startsWith(p));
    if (base || policy.passThrough.some((p) => matches(name, p))) out[name] = value;
  }
  // Additions are Gantry's deliberate choices for this session (hook token, prompt file, test
  // endpoints); they are set explicitly, so the deny list does not apply to them.
  return { ...out, ...additions };
}
