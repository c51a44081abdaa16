// The scripted conversation a model server replays. A script is the flat list of assistant
// responses of one conversation; the response to a request is chosen by how many assistant
// responses the request's history already holds, so a retried request gets the same answer and
// a resumed session (whose history the CLI replays) continues where the last turn ended.
export interface ScriptedToolCall {
  name: string;
  input: Record<string, unknown>;
}

export interface ScriptedResponse {
  /** Text the assistant says (for a tool step: said before the calls). */
  text?: string;
  /** Tool calls; a response without tool calls ends the agent's turn. */
  tools?: ScriptedToolCall[];
  usage?: { inputTokens: number; outputTokens: number };
  /** Answer with an HTTP error instead (4xx: clients do not retry). */
  error?: { status: number; message: string };
  /** Never answer: the request stays open until the client gives up or the server closes (a hung model). */
  hang?: true;
}

export const defaultUsage = { inputTokens: 120, outputTokens: 30 };

/** What to answer when the history is longer than the script: a plain closing message. */
export const pastTheEnd: ScriptedResponse = { text: 'Nothing more to do.' };

export function pick(script: readonly ScriptedResponse[], index: number): ScriptedResponse {
  return script[index] ?? pastTheEnd;
}
