// The environment for a project's own commands (checks, setup, scripts): the user's environment,
// which tests and toolchains legitimately need, minus what belongs to Gantry or to whoever started
// Gantry — Gantry's own variables (tokens, database URLs), inherited agent markers, and a parent
// test runner's context (NODE_TEST_CONTEXT makes a project's `node --test` report to *our* runner,
// so its failures would read as green). GITHUB_TOKEN is the forge token the GitHub adapter can take
// from the environment: checks run code an agent wrote, so it never reaches them. Pure.
const DROP = new Set(['GITHUB_TOKEN', 'NODE_TEST_CONTEXT', 'CLAUDECODE', 'CLAUDE_CODE_ENTRYPOINT', 'CLAUDE_CODE_SSE_PORT', 'CODEX_SANDBOX', 'CODEX_SANDBOX_NETWORK_DISABLED']);
const DROP_PREFIXES = ['GANTRY_'];

export function projectCommandEnv(parent: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined || DROP.has(name) || DROP_PREFIXES.some((p) => name.startsWith(p))) continue;
    out[name] = value;
  }
  return out;
}
