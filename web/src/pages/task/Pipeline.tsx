// The pipeline timeline of the task's current run: each step's state, attempts, duration and score;
// what the run waits for and the answers a person can give; retry, restart from a step, cancel.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { LineComment } from '../../../../src/domain/pipeline/line-comments.js';
import type { GantryEvent, RunsResponse, RunView, StepView, Task, Usage, Waiting } from '../../api/types.js';
import { useSession } from '../../live/context.js';
import { choicesFor, proposalOf, runControls, stepDuration, WAIT_TITLE, type ActionChoice } from '../../model/run-actions.js';
import { ConfirmDialog, type ConfirmSpec } from '../../ui/Confirm.js';
import { duration, money } from '../../ui/format.js';
import { putComment } from '../../ui/diff/comments.js';
import type { CommentsProp } from '../../ui/diff/FileDiff.js';
import { Markdown } from '../../ui/Markdown.js';
import { DiffView } from './DiffView.js';
import { StepAttempts } from './StepAttempts.js';

export function Pipeline({ task, events }: { task: Task; events: GantryEvent[] | null }) {
  const { api, live } = useSession();
  const [data, setData] = useState<RunsResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [spec, setSpec] = useState<ConfirmSpec | null>(null);
  const [, setNow] = useState(0);
  const available = live.has('GET /api/tasks/{id}/runs');
  const lastSeq = events?.length ? events[events.length - 1]!.seq : 0;

  const reload = useCallback(() => {
    api.runs(task.id).then(
      (r) => {
        setData(r);
        setError(null);
      },
      (e: unknown) => setError((e as Error).message),
    );
  }, [api, task.id]);
  // Refetch when the task's log moves (a step started, finished, parked …) or the task changes —
  // at most every 250 ms, with a trailing fetch, so a chatty step does not flood the API.
  const last = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    if (!available) return;
    const wait = last.current + 250 - Date.now();
    const go = () => {
      timer.current = null;
      last.current = Date.now();
      reload();
    };
    if (wait <= 0) go();
    else if (!timer.current) timer.current = setTimeout(go, wait);
  }, [available, reload, lastSeq, task.rev]);
  useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);
  const run = data?.current ?? null;
  // Line comments drafted on the diff of an approval; they go with "Request changes".
  const [comments, setComments] = useState<LineComment[]>([]);
  const waitKey = run?.waiting ? `${run.id}:${run.waiting.stepId}:${run.waiting.kind}` : '';
  useEffect(() => setComments([]), [waitKey]);
  const commentsProp = useMemo<CommentsProp>(() => ({ list: comments, put: (c) => setComments((l) => putComment(l, c)) }), [comments]);
  useEffect(() => {
    if (!run || !run.steps.some((s) => s.state === 'working')) return;
    const t = setInterval(() => setNow((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [run]);

  if (!available) return null;
  const act = (c: ActionChoice) => {
    const needText = c.text && c.text.kind !== 'fixed';
    // Approving shows the proposal to edit; unchanged, it is a plain approval.
    const initial = c.action === 'approve' ? proposalOf(run?.waiting ?? null) : null;
    if (c.action === 'changes' && comments.length > 0) {
      setSpec({
        title: `${c.label}?`,
        body: (
          <>
            <p>{c.explain}</p>
            <p>
              {comments.length === 1 ? 'One line comment goes' : `${comments.length} line comments go`} with it, each as path:line:
            </p>
            <ul className="comment-list" data-testid="changes-comments">
              {comments.map((x) => (
                <li key={`${x.side}:${x.line}:${x.path}`}>
                  <code>
                    {x.path}:{x.line}
                  </code>{' '}
                  {x.body}
                </li>
              ))}
            </ul>
          </>
        ),
        confirmLabel: c.label,
        input: { label: 'Feedback for the agent (optional with line comments)', multiline: true, optional: true },
        run: async (text) => {
          await api.runAction(task.id, 'changes', { ...(text.trim() ? { text } : {}), comments });
          setComments([]);
          live.refreshTask(task.id);
          reload();
        },
      });
      return;
    }
    setSpec({
      title: c.text?.kind === 'fixed' ? `Answer “${c.text.value}”?` : `${c.label}?`,
      body: (
        <>
          <p>{c.explain}</p>
          {/* Words are never dropped without saying so: drafted comments go only with Request changes. */}
          {comments.length > 0 && (
            <p className="muted" data-testid="comments-not-sent">
              {comments.length === 1 ? 'Your line comment is' : `Your ${comments.length} line comments are`} not sent with this answer: comments go with Request changes.
            </p>
          )}
        </>
      ),
      confirmLabel: c.label,
      ...(c.danger ? { danger: true } : {}),
      ...(needText && c.text && c.text.kind !== 'fixed' ? { input: { label: c.text.label, multiline: !!c.text.multiline, optional: c.text.kind === 'optional', ...(initial ? { initial } : {}) } } : {}),
      run: async (text) => {
        const edited = text.trim() && text !== initial ? text : '';
        const body = c.text?.kind === 'fixed' ? { text: c.text.value } : edited ? { text: edited } : {};
        await api.runAction(task.id, c.action, body);
        live.refreshTask(task.id);
        reload();
      },
    });
  };
  const control = (kind: 'retry' | 'restart' | 'cancel', r: RunView) => {
    if (kind === 'retry') {
      setSpec({ title: `Retry run #${r.number}?`, body: <p>A new run resumes from the failed step; finished steps are kept.</p>, confirmLabel: 'Retry', run: () => api.runAction(task.id, 'retry').then(reload) });
    } else if (kind === 'cancel') {
      setSpec({
        title: `Cancel run #${r.number}?`,
        body: <p>Agents are stopped, the workspace is checkpointed, and the task is cancelled.</p>,
        confirmLabel: 'Cancel run',
        danger: true,
        input: { label: 'Reason', optional: true },
        run: (text) => api.runAction(task.id, 'cancel', text ? { text } : {}).then(reload),
      });
    } else {
      setSpec({
        title: 'Restart from a step?',
        body: <p>A new run starts; the chosen step and every step after it run again. Earlier steps keep their results. Type the step id ({r.steps.map((s) => s.id).join(', ')}).</p>,
        confirmLabel: 'Restart',
        input: { label: 'Step id', placeholder: r.currentStep ?? r.steps[0]?.id ?? '' },
        run: (text) => api.runAction(task.id, 'restart', { from: text }).then(reload),
      });
    }
  };

  return (
    <section className="panel" aria-labelledby="pipeline-title" data-testid="pipeline">
      <h2 id="pipeline-title">
        Pipeline{run ? ` · ${run.pipeline} · run #${run.number} · ${run.state}` : ''}
      </h2>
      {data?.usage && data.usage.turns > 0 && (
        <p className="muted task-cost" data-testid="task-cost">
          Task cost: {costText(data.usage)} · {data.usage.tokensIn + data.usage.tokensOut} tokens over {data.usage.turns} agent turns
        </p>
      )}
      {error && <p className="error">{error}</p>}
      {!run ? (
        <p className="muted">No run yet. A factory starts one when it claims the task.</p>
      ) : (
        <>
          {run.failure && (
            <p className="banner bad">
              <strong>{run.failure.kind.replace(/_/g, ' ')}</strong> {run.failure.message} <span className="remedy">{run.failure.remedy}</span>
            </p>
          )}
          {run.waiting && (
            <div className="waiting" data-testid="waiting" data-kind={run.waiting.kind}>
              <p>
                <strong>{run.waiting.stepId}</strong> {WAIT_TITLE[run.waiting.kind]}
              </p>
              {run.waiting.question && <blockquote className="question">{run.waiting.question}</blockquote>}
              <WaitSubject task={task} waiting={run.waiting} canDiff={live.has('GET /api/tasks/{id}/diff')} comments={commentsProp} />
              <div className="action-row">
                {choicesFor(run.waiting.kind, run.waiting.options).map((c) => (
                  <button key={`${c.action}:${c.label}`} type="button" className={c.danger ? 'danger-outline' : c.action === 'reject' ? undefined : 'primary'} data-run-action={c.action} onClick={() => act(c)}>
                    {c.label}
                  </button>
                ))}
              </div>
            </div>
          )}
          <ol className="steps">
            {run.steps.map((s) => (
              <Step key={s.id} task={task} step={s} current={run.currentStep === s.id} version={`${run.id}:${lastSeq}`} canAttempts={live.has('GET /api/ui/tasks/{id}/steps/{step}/attempts')} />
            ))}
          </ol>
          {runControls(run).length > 0 && (
            <div className="action-row run-controls">
              {runControls(run).map((k) => (
                <button key={k} type="button" className={k === 'cancel' ? 'danger-outline' : undefined} data-run-control={k} onClick={() => control(k, run)}>
                  {k === 'retry' ? 'Retry' : k === 'restart' ? 'Restart from…' : 'Cancel run'}
                </button>
              ))}
            </div>
          )}
          {data && data.runs.length > 1 && (
            <p className="muted">
              {data.runs.length} runs: {data.runs.map((r) => `#${r.number} ${r.state}`).join(' · ')}
            </p>
          )}
        </>
      )}
      {spec && <ConfirmDialog spec={spec} onClose={() => setSpec(null)} />}
    </section>
  );
}

const ICON: Record<StepView['state'], string> = { pending: '○', working: '◐', waiting: '◆', done: '●', skipped: '–', failed: '✕' };

function Step({ task, step, current, version, canAttempts }: { task: Task; step: StepView; current: boolean; version: string; canAttempts: boolean }) {
  const d = stepDuration(step, Date.now());
  const score = typeof step.output?.score === 'number' ? step.output.score : null;
  return (
    <li className={`step st-${step.state}${current ? ' current' : ''}`} data-step={step.id} data-state={step.state}>
      <span className="step-icon" aria-hidden="true">
        {ICON[step.state]}
      </span>
      <span className="step-name">
        <strong>{step.id}</strong> <span className="muted">{step.kind}</span>
      </span>
      <span className="step-state">{step.state}</span>
      <span className="step-meta muted">
        {step.attempts > 1 && `attempt ${step.attempts} · `}
        {d !== null ? duration(d) : ''}
        {score !== null && ` · score ${score.toFixed(2)}`}
        {step.usage && step.usage.turns > 0 && <span data-testid="step-cost"> · {costText(step.usage)}</span>}
      </span>
      {step.failure && <span className="step-failure">{step.failure.message ?? step.failure.kind}</span>}
      {canAttempts && hasAttempts(step) && <StepDetail task={task} step={step} version={version} />}
    </li>
  );
}

const costText = (u: Usage): string => (u.costUsd === null ? 'cost unknown' : `${u.costKnown ? '' : '≥ '}${money(u.costUsd)}`);

/** Steps that ran something: agents, reviews, checks (approvals and merges have no log). */
const hasAttempts = (s: StepView): boolean => s.state !== 'pending' && s.state !== 'skipped' && !['approval', 'merge'].includes(s.kind);

function StepDetail({ task, step, version }: { task: Task; step: StepView; version: string }) {
  const [open, setOpen] = useState(step.state === 'failed');
  const rounds = step.rounds ?? [];
  const label =
    rounds.length > 0
      ? `${rounds.length} ${rounds.length === 1 ? 'attempt' : 'attempts'}${rounds.some((r) => !r.ok) && rounds[rounds.length - 1]!.ok ? ' · red, then fixed' : ''}`
      : step.state === 'working'
        ? 'Attempts · live log'
        : 'Attempts and logs';
  return (
    <details className="step-detail" open={open} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>{label}</summary>
      {open && <StepAttempts task={task} step={step.id} version={`${version}:${step.state}:${step.attempts}`} />}
    </details>
  );
}

/**
 * What the person is asked to approve, inside the prompt: the producing step's output (a plan, as
 * sanitized Markdown) and the workspace's changes; a merge review shows the changes to be merged.
 */
function WaitSubject({ task, waiting, canDiff, comments }: { task: Task; waiting: Waiting; canDiff: boolean; comments: CommentsProp }) {
  const [showDiff, setShowDiff] = useState(waiting.kind === 'merge_review');
  if (waiting.kind !== 'approval' && waiting.kind !== 'merge_review') return null;
  const text = proposalOf(waiting);
  return (
    <div className="wait-subject" data-testid="approval-subject">
      {text && (
        <div className="proposal">
          <h3>Output of {waiting.stepId}</h3>
          <Markdown text={text} />
        </div>
      )}
      {waiting.kind === 'approval' && !text && <p className="muted">The step produced no text; its changes are below.</p>}
      {canDiff &&
        (showDiff || (waiting.kind === 'approval' && !text) ? (
          <DiffView task={task} range={{ from: 'base', to: 'latest', label: 'base → latest' }} {...(waiting.kind === 'approval' ? { comments } : {})} />
        ) : (
          <button type="button" className="small" onClick={() => setShowDiff(true)}>
            Show the changes
          </button>
        ))}
    </div>
  );
}
