// Which Prometheus series an event moves. Pure: the metrics registry follows the event log and
// applies these; step durations are resolved there from a step's start and end marks (both on the
// store clock). Labels are bounded sets (stages, outcomes, step kinds, adapter and channel names).
import type { GantryEvent } from './events.js';

export type CounterName =
  | 'tasks_submitted_total'
  | 'task_transitions_total'
  | 'lease_grants_total'
  | 'lease_renewals_total'
  | 'lease_releases_total'
  | 'lease_reclaims_total'
  | 'factory_stale_total'
  | 'results_quarantined_total'
  | 'runs_started_total'
  | 'runs_finished_total'
  | 'runs_parked_total'
  | 'agent_launches_total'
  | 'agent_sessions_total'
  | 'agent_failures_total'
  | 'agent_tokens_total'
  | 'agent_cost_usd_total'
  | 'checkpoints_total'
  | 'merges_total'
  | 'notifications_raised_total'
  | 'notification_deliveries_total';

export type Labels = Record<string, string>;

export type Observation =
  | { kind: 'count'; name: CounterName; labels: Labels; value: number }
  /** A step began (or began again): remember when, and of which kind. */
  | { kind: 'step_start'; key: string; stepKind: string; at: number }
  /** A step ended: its duration is `at` minus its start. */
  | { kind: 'step_end'; key: string; result: 'done' | 'failed'; at: number };

const text = (v: unknown, fallback = 'unknown'): string => (typeof v === 'string' && v ? v.slice(0, 64) : fallback);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);
const count = (name: CounterName, labels: Labels = {}, value = 1): Observation => ({ kind: 'count', name, labels, value });

/** Events whose payload `stage` is the task's stage after it: each is a transition into that stage. */
const STAGE_EVENTS = new Set(['task.submitted', 'task.stage_changed', 'task.stage', 'task.unblocked', 'task.action', 'lease.granted', 'lease.released', 'lease.reclaimed']);

export function observationsOf(e: GantryEvent): Observation[] {
  const p = e.payload ?? {};
  const out: Observation[] = [];
  if (STAGE_EVENTS.has(e.type) && typeof p.stage === 'string') out.push(count('task_transitions_total', { stage: p.stage }));
  const stepKey = `${e.runId ?? ''}:${String(p.idx)}`;
  switch (e.type) {
    case 'task.submitted':
      out.push(count('tasks_submitted_total'));
      break;
    case 'lease.granted':
      out.push(count('lease_grants_total'));
      break;
    case 'lease.renewed':
      out.push(count('lease_renewals_total'));
      break;
    case 'lease.released':
      out.push(count('lease_releases_total', { outcome: text(p.outcome) }));
      break;
    case 'lease.reclaimed':
      out.push(count('lease_reclaims_total', { reason: text(p.reason) }));
      break;
    case 'factory.stale':
      out.push(count('factory_stale_total'));
      break;
    case 'fleet.result_quarantined':
      out.push(count('results_quarantined_total'));
      break;
    case 'run.started':
      out.push(count('runs_started_total'));
      break;
    case 'run.done':
      out.push(count('runs_finished_total', { state: 'done', failure: '' }));
      break;
    case 'run.failed':
      out.push(count('runs_finished_total', { state: 'failed', failure: text(p.kind) }));
      if (typeof p.idx === 'number') out.push({ kind: 'step_end', key: stepKey, result: 'failed', at: e.at });
      break;
    case 'run.cancelled':
      out.push(count('runs_finished_total', { state: 'cancelled', failure: '' }));
      break;
    case 'run.parked':
      out.push(count('runs_parked_total', { waiting: text(p.waiting) }));
      break;
    case 'step.started':
      out.push({ kind: 'step_start', key: stepKey, stepKind: text(p.kind), at: e.at });
      break;
    case 'step.done':
      out.push({ kind: 'step_end', key: stepKey, result: 'done', at: e.at });
      break;
    case 'session.dispatched':
      out.push(count('agent_launches_total', { adapter: text(p.agent) }));
      break;
    case 'session.finished': {
      const adapter = text(p.agent);
      const status = text(p.status);
      out.push(count('agent_sessions_total', { adapter, status }));
      if (status === 'failed' || status === 'lost') out.push(count('agent_failures_total', { adapter }));
      if (num(p.tokens)) out.push(count('agent_tokens_total', { adapter }, num(p.tokens)));
      if (num(p.costUsd)) out.push(count('agent_cost_usd_total', { adapter }, num(p.costUsd)));
      break;
    }
    case 'checkpoint.created':
      out.push(count('checkpoints_total'));
      break;
    case 'merge.merged':
      out.push(count('merges_total'));
      break;
    case 'notification.raised':
      out.push(count('notifications_raised_total', { kind: text(p.kind) }));
      break;
    case 'notification.delivered':
      out.push(count('notification_deliveries_total', { channel: text(p.channel), result: text(p.state) }));
      break;
    case 'notification.delivery_failed':
      out.push(count('notification_deliveries_total', { channel: text(p.channel), result: 'failed' }));
      break;
  }
  return out;
}
