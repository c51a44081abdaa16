// An agent CLI's own sandbox, seen from Gantry: recognizing from a command's output that it cannot run
// on this host (Codex runs its workspace-write sandbox through bwrap and a helper its npm package does
// not ship), and what to tell the operator. Pure: table-tested.

const SIGNS: RegExp[] = [
  /bwrap: execvp codex-linux-sandbox[^\n]*/,
  /codex-linux-sandbox: [^\n]*(not found|No such file)[^\n]*/,
  /bwrap: (No permissions to create new namespace|Creating new namespace failed|setting up uid map|Failed to make \/ slave)[^\n]*/,
  /error running landlock[^\n]*/i,
];

export const INNER_SANDBOX_REMEDY =
  "let Gantry's sandbox contain the agent (install bubblewrap and keep sandbox.mode: auto; Gantry then turns the agent's own sandbox off), " +
  'or make its own sandbox work on this host (set CODEX_HOME outside the temporary directory so Codex can create its codex-linux-sandbox helper, install that helper on PATH, or uninstall bubblewrap so Codex falls back)';

/** The sandbox error in a command's output, or null. */
export function innerSandboxFailure(output: string): string | null {
  for (const re of SIGNS) {
    const m = re.exec(output);
    if (m) return m[0].trim().slice(0, 200);
  }
  return null;
}

export function innerSandboxMessage(agent: string, evidence: string): string {
  return `${agent}'s own sandbox cannot run on this host (${evidence}): every command it runs fails. Remedy: ${INNER_SANDBOX_REMEDY}`;
}
