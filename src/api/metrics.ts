// Prometheus metrics (prom-client). Three sources, none threaded through the engine or the fleet:
// - the event log, followed from the moment this coordinator starts (`observationsOf`): fleet-wide
//   counters, so every coordinator of one database reports the same totals;
// - store reads at scrape time: queue depth by stage, factory liveness and load, alerts;
// - this process: HTTP request durations, failed authentications, claims served, Node.js runtime.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { observationsOf, type CounterName } from '../domain/event-metrics.js';
import type { GantryEvent } from '../domain/events.js';
import { STAGES } from '../domain/task.js';
import type { FleetMetrics, AlertKind } from '../fleet/metrics.js';

export interface MetricsSources {
  events: { latestSeq(): Promise<number>; follow(fromSeq: number, onEvent: (e: GantryEvent) => void): (() => void) & { ready: Promise<void> } };
  fleet: { metrics(): Promise<FleetMetrics> };
  version: string;
  store: string;
}

/** What the HTTP server reports, per request. */
export interface HttpObserver {
  request(o: { method: string; route: string; status: number; seconds: number }): void;
  authFailure(outcome: 'invalid' | 'rate_limited'): void;
}

const COUNTER_HELP: Record<CounterName, [string, string[]]> = {
  tasks_submitted_total: ['Tasks submitted', []],
  task_transitions_total: ['Tasks entering each stage', ['stage']],
  lease_grants_total: ['Leases granted to factories (claims that got a task)', []],
  lease_renewals_total: ['Lease renewals', []],
  lease_releases_total: ['Leases released by their holder, by outcome', ['outcome']],
  lease_reclaims_total: ['Leases taken back by the reaper (expired, or the factory went stale)', ['reason']],
  factory_stale_total: ['Factories declared stale', []],
  results_quarantined_total: ['Results quarantined by fenced factories', []],
  runs_started_total: ['Pipeline runs started', []],
  runs_finished_total: ['Pipeline runs finished, by final state and failure kind', ['state', 'failure']],
  runs_parked_total: ['Runs parked for a person, by what they wait for', ['waiting']],
  agent_launches_total: ['Agent sessions launched, by adapter', ['adapter']],
  agent_sessions_total: ['Agent sessions whose outcome a step consumed, by adapter and status', ['adapter', 'status']],
  agent_failures_total: ['Agent sessions that failed or were lost, by adapter', ['adapter']],
  agent_tokens_total: ['Tokens (input + output) reported by agents, by adapter', ['adapter']],
  agent_cost_usd_total: ['Cost in USD reported by agents, by adapter', ['adapter']],
  checkpoints_total: ['Workspace checkpoints taken', []],
  merges_total: ['Changes merged into a base branch', []],
  notifications_raised_total: ['Notifications raised, by kind', ['kind']],
  notification_deliveries_total: ['Notification channel deliveries, by channel and result (sent, skipped, failed)', ['channel', 'result']],
};

const ALERTS: AlertKind[] = ['no_live_capacity', 'all_factories_down', 'queue_starvation', 'saturated', 'stale_factories'];
const STEP_STARTS_MAX = 10_000;

export class GantryMetrics implements HttpObserver {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;
  private readonly counters = new Map<CounterName, Counter>();
  private readonly stepStarts = new Map<string, { at: number; kind: string }>();
  private readonly stepSeconds: Histogram;
  private readonly http: Histogram;
  private readonly authFailures: Counter;
  private readonly claims: Counter;
  private readonly gauges: Record<'tasks' | 'queueDepth' | 'oldestQueued' | 'factories' | 'factoryUp' | 'factoryLeases' | 'factorySlots' | 'heartbeatAge' | 'seats' | 'alerts' | 'eventSeq', Gauge>;
  private unfollow: (() => void) | null = null;

  constructor(private readonly s: MetricsSources) {
    const r = this.registry;
    collectDefaultMetrics({ register: r });
    new Gauge({ name: 'gantry_build_info', help: 'Gantry version and store kind', labelNames: ['version', 'store'], registers: [r] }).set({ version: s.version, store: s.store }, 1);
    for (const [name, [help, labelNames]] of Object.entries(COUNTER_HELP) as Array<[CounterName, [string, string[]]]>) {
      this.counters.set(name, new Counter({ name: `gantry_${name}`, help: `${help} (from the event log, since this coordinator started)`, labelNames, registers: [r] }));
    }
    this.stepSeconds = new Histogram({
      name: 'gantry_step_duration_seconds',
      help: 'Pipeline step durations by step kind and result, from start to end on the store clock',
      labelNames: ['kind', 'result'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200],
      registers: [r],
    });
    this.http = new Histogram({
      name: 'gantry_http_request_duration_seconds',
      help: 'HTTP requests served by this coordinator, by method, route pattern and status (event streams excluded)',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [r],
    });
    this.authFailures = new Counter({ name: 'gantry_http_auth_failures_total', help: 'Requests refused for an invalid token, or rate limited after too many', labelNames: ['outcome'], registers: [r] });
    this.claims = new Counter({ name: 'gantry_fleet_claims_total', help: 'Claims served by this coordinator, by result (granted, empty)', labelNames: ['result'], registers: [r] });
    const g = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name: `gantry_${name}`, help, labelNames, registers: [r] });
    this.gauges = {
      tasks: g('tasks', 'Tasks by stage (read from the store at scrape time)', ['stage']),
      queueDepth: g('queue_depth', 'Tasks queued and waiting for a factory'),
      oldestQueued: g('queue_oldest_age_seconds', 'Age of the oldest queued task (0 when none)'),
      factories: g('factories', 'Factories by state', ['state']),
      factoryUp: g('factory_up', '1 while a factory heartbeats within the stale window', ['factory', 'name']),
      factoryLeases: g('factory_leases', 'Leases a factory holds', ['factory']),
      factorySlots: g('factory_slots', 'Slots a factory offers', ['factory']),
      heartbeatAge: g('factory_heartbeat_age_seconds', 'Seconds since a factory last heartbeat', ['factory']),
      seats: g('seats', 'Seats of live, non-draining factories', ['state']),
      alerts: g('fleet_alert', '1 while a fleet alert holds (see docs/fleet.md)', ['kind']),
      eventSeq: g('event_seq', 'The latest event sequence number in the store'),
    };
  }

  /** Follows the event log from its current end. */
  async start(): Promise<void> {
    const from = await this.s.events.latestSeq();
    const sub = this.s.events.follow(from, (e) => this.onEvent(e));
    this.unfollow = sub;
    await sub.ready;
  }

  close(): void {
    this.unfollow?.();
    this.unfollow = null;
    this.registry.clear();
  }

  onEvent(e: GantryEvent): void {
    for (const o of observationsOf(e)) {
      if (o.kind === 'count') this.counters.get(o.name)!.inc(o.labels, o.value);
      else if (o.kind === 'step_start') {
        if (this.stepStarts.size >= STEP_STARTS_MAX) this.stepStarts.delete(this.stepStarts.keys().next().value as string);
        this.stepStarts.set(o.key, { at: o.at, kind: o.stepKind });
      } else {
        const start = this.stepStarts.get(o.key);
        if (!start) continue; // started before this coordinator did
        this.stepStarts.delete(o.key);
        this.stepSeconds.observe({ kind: start.kind, result: o.result }, Math.max(0, o.at - start.at) / 1000);
      }
    }
  }

  request(o: { method: string; route: string; status: number; seconds: number }): void {
    this.http.observe({ method: o.method, route: o.route, status: String(o.status) }, o.seconds);
  }

  authFailure(outcome: 'invalid' | 'rate_limited'): void {
    this.authFailures.inc({ outcome });
  }

  claim(granted: boolean): void {
    this.claims.inc({ result: granted ? 'granted' : 'empty' });
  }

  /** The exposition text, after refreshing the store-read gauges. */
  async render(): Promise<string> {
    const [m, seq] = await Promise.all([this.s.fleet.metrics(), this.s.events.latestSeq()]);
    const gs = this.gauges;
    for (const stage of STAGES) gs.tasks.set({ stage }, m.stages[stage] ?? 0);
    gs.queueDepth.set(m.queueDepth);
    gs.oldestQueued.set((m.oldestQueuedAgeMs ?? 0) / 1000);
    gs.factories.set({ state: 'total' }, m.factories.total);
    gs.factories.set({ state: 'live' }, m.factories.live);
    gs.factories.set({ state: 'stale' }, m.factories.stale);
    gs.factories.set({ state: 'draining' }, m.factories.draining);
    for (const x of [gs.factoryUp, gs.factoryLeases, gs.factorySlots, gs.heartbeatAge]) x.reset(); // factories come and go
    for (const f of m.health) {
      gs.factoryUp.set({ factory: f.id, name: f.name }, f.live ? 1 : 0);
      gs.factoryLeases.set({ factory: f.id }, f.leases);
      gs.factorySlots.set({ factory: f.id }, f.slots);
      if (f.lastHeartbeatAgeMs !== null) gs.heartbeatAge.set({ factory: f.id }, f.lastHeartbeatAgeMs / 1000);
    }
    gs.seats.set({ state: 'used' }, m.seats.used);
    gs.seats.set({ state: 'total' }, m.seats.total);
    const active = new Set(m.alerts.map((a) => a.kind));
    for (const kind of ALERTS) gs.alerts.set({ kind }, active.has(kind) ? 1 : 0);
    gs.eventSeq.set(seq);
    return this.registry.metrics();
  }
}
