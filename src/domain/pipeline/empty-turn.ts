// "Never shipped with nothing in it": what an agent step does with a turn that completed without
// committing anything. Pure: the runner reports whether HEAD moved, the step applies the decision.
//  - A turn that changed nothing and ends with a question to the person parks as a question (the
//    agent asked in prose instead of a gantry-question block; the question is not lost).
//  - An implementer turn that committed nothing, on a branch with no commit over its base, fails
//    with the reason: there is nothing to ship (its commands may all have failed, or it only talked).

const FENCE = /```[\s\S]*?```/g;

/** Does the end of the agent's reply read as a question to the person? */
export function readsAsQuestion(text: string): boolean {
  const prose = text.replace(FENCE, '').trim();
  if (!prose) return false;
  const lastParagraph = prose.split(/\n\s*\n/).at(-1)!.trim();
  // The reply ends with a question (optionally followed by closing markdown or a short sign-off).
  return /\?\s*[*_)"'`]*\s*$/.test(lastParagraph);
}

/** The question to show: the reply's last paragraph (it holds the question), bounded. */
export function questionText(text: string): string {
  const prose = text.replace(FENCE, '').trim();
  const last = prose.split(/\n\s*\n/).at(-1)?.trim() ?? prose;
  return last.length > 2000 ? `${last.slice(0, 1999)}…` : last;
}

export type EmptyTurnDecision = { type: 'ok' } | { type: 'question'; question: string } | { type: 'fail'; message: string };

export interface EmptyTurnFacts {
  role: string;
  /** HEAD moved during this turn; undefined when the runner could not tell (never decides then). */
  committed: boolean | undefined;
  /** The task's branch holds commits over its base (earlier turns or steps committed); undefined: unknown. */
  branchAhead: boolean | undefined;
  text: string;
}

export function decideEmptyTurn(f: EmptyTurnFacts): EmptyTurnDecision {
  if (f.committed !== false) return { type: 'ok' };
  if (readsAsQuestion(f.text)) return { type: 'question', question: questionText(f.text) };
  if (f.role !== 'implementer' || f.branchAhead !== false) return { type: 'ok' };
  const said = f.text.trim() ? ` It said: "${f.text.trim().slice(0, 300)}${f.text.trim().length > 300 ? '…' : ''}"` : ' It said nothing.';
  return { type: 'fail', message: `the implementer ended its turn without committing anything, so there is nothing to ship (its commands may have failed).${said}` };
}
