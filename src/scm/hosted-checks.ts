// Hosted CI as a checks provider: a check entry with `hosted: true` pushes the change's head, opens
// (or updates) its pull request, then waits on the forge's check runs and commit statuses for that
// head — polling, with an injected clock and sleep — until they settle or the check's timeout. Red
// output (each failing run's title/summary/text, each failing status's description) becomes the
// check's tail, which the checks step hands to the fixer exactly like a local command's output.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostedVerdict } from '../domain/forge/verdicts.js';
import type { CheckResult, Checks, CheckSpec, CheckTarget } from '../ports/engine.js';
import { isForge } from './github.js';
import { changeClosedError } from '../domain/forge/pr-state.js';
import { realClock, type HostedClock } from './clock.js';

export type { HostedClock };

const TAIL = 4000;

export class HostedChecks implements Checks {
  constructor(private readonly clock: HostedClock = realClock) {}

  async run(_workspace: string, checks: readonly CheckSpec[], o: { logDir: string; signal?: AbortSignal; target?: CheckTarget }): Promise<CheckResult[]> {
    mkdirSync(o.logDir, { recursive: true });
    const out: CheckResult[] = [];
    for (const c of checks) out.push(await this.one(_workspace, c, o));
    return out;
  }

  private async one(workspace: string, c: CheckSpec, o: { logDir: string; signal?: AbortSignal; target?: CheckTarget }): Promise<CheckResult> {
    const started = this.clock.now();
    const logFile = join(o.logDir, `${c.name}.log`);
    const pushed: { head?: string } = {}; // set once pushed: the results name the commit CI ran on
    const result = (ok: boolean, text: string, timedOut = false): CheckResult => {
      writeFileSync(logFile, `${text}\n`);
      return { name: c.name, ok, exitCode: ok ? 0 : 1, timedOut, durationMs: this.clock.now() - started, logFile, tail: text.slice(-TAIL), ...(pushed.head ? { headSha: pushed.head } : {}) };
    };
    const t = o.target;
    if (!t || !isForge(t.scm)) return result(false, `${c.name}: hosted checks need a forge SCM adapter (scm.adapter: github); this project's adapter has no hosted CI`);
    const { headSha } = await t.scm.pushBranch(workspace, t.branch);
    pushed.head = headSha;
    const change = await t.scm.openChange({ taskId: t.taskId, branch: t.branch, base: t.base, title: t.title, ...(t.body !== undefined ? { body: t.body } : {}) });
    const every = (c.pollSeconds ?? 15) * 1000;
    let last: HostedVerdict = { verdict: 'none' };
    for (;;) {
      last = await t.scm.hostedChecks(change, headSha);
      // The PR itself on every look: a person closing it ends the wait (the run parks on it), and its
      // state and CI feed the change axis.
      const pull = await t.scm.pullFacts(change);
      if (pull.state === 'closed' && !pull.merged) throw changeClosedError(String(change.ref), pull.url);
      await t.onPull?.(pull, last);
      // A person merged it (an admin merge past running or red CI): nothing left to fix — a fixer's
      // commits would go to a merged branch and be dropped. Passed, so the merge step records the merge.
      if (pull.merged) return result(true, `pull request #${change.ref} was merged on the forge while hosted CI on ${headSha} was ${last.verdict}: the wait ends`);
      if (last.verdict === 'passing') return result(true, `hosted CI on ${headSha}: passing\n${last.checks.map((x) => `- ${x.name}: ok`).join('\n')}`);
      if (last.verdict === 'failing') {
        const red = last.checks.filter((x) => !x.ok).map((x) => `### ${x.name}\n${x.detail}`);
        return result(false, `hosted CI on ${headSha} (pull request #${change.ref}): failing\n\n${red.join('\n\n')}`);
      }
      if (o.signal?.aborted) return result(false, `${c.name}: stopped while waiting on hosted CI for ${headSha}`);
      if (this.clock.now() - started + every > c.timeout * 1000) break;
      await this.clock.sleep(every, o.signal, { ...(t.scm.repo ? { repo: t.scm.repo } : {}), branch: t.branch, pull: change.ref, headSha });
    }
    const waiting = last.verdict === 'pending' ? `still waiting on: ${last.waitingOn.join(', ')}` : 'no check run or status was reported';
    return result(false, `hosted CI on ${headSha} did not settle within ${c.timeout}s: ${waiting}`, true);
  }
}

/** Routes each check to its provider (a command, or the forge's hosted CI), keeping the configured order. */
export class ChecksProviders implements Checks {
  constructor(private readonly providers: { command: Checks; hosted: Checks }) {}

  async run(workspace: string, checks: readonly CheckSpec[], o: { logDir: string; signal?: AbortSignal; target?: CheckTarget }): Promise<CheckResult[]> {
    const out: CheckResult[] = [];
    for (const c of checks) {
      if (o.signal?.aborted) break;
      out.push(...(await (c.hosted ? this.providers.hosted : this.providers.command).run(workspace, [c], o)));
    }
    return out;
  }
}
