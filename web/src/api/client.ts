// Every call the dashboard makes, typed, in one place. The token travels in the Authorization
// header; only the event stream (EventSource cannot set headers) puts it in the query string.
import type { LineComment } from '../../../src/domain/pipeline/line-comments.js';
import type {
  BoardSnapshot, CardsResponse, Checkpoint, LogChunk, LogRef, ProjectSpend, StepAttempts, NewTaskInput, NewTaskOptions, Factory, FleetMetrics, GantryEvent, Notification, OperatorAction, Project, Quarantine, RollbackResult, RunAction, RunsResponse, RunView, Session, Task, TaskPage, Transcript, WhoAmI, WorkspaceDiff,
} from './types.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint: string | null,
    /** The input the error is about (`body.title`, `pipeline` …), when the API names one. */
    readonly field: string | null = null,
    /** Every input a validation error names (its `details.issues`), the first being `field`. */
    readonly fields: readonly string[] = field ? [field] : [],
  ) {
    super(message);
  }
}

export type Unauthorized = () => void;

export class Api {
  constructor(
    readonly token: string,
    private readonly onUnauthorized: Unauthorized = () => {},
    private readonly base = '',
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      cache: 'no-store',
    });
    const text = await res.text();
    let data: unknown = {};
    try {
      data = text ? JSON.parse(text) : {};
    } catch {
      data = { error: { message: text.slice(0, 200) } };
    }
    if (!res.ok) {
      const e = ((data as { error?: { code?: string; message?: string; hint?: string; field?: string; details?: { issues?: Array<{ path?: unknown }> } } }).error ?? {});
      if (res.status === 401) this.onUnauthorized();
      const issues = Array.isArray(e.details?.issues) ? e.details.issues.map((i) => i.path).filter((p): p is string => typeof p === 'string') : [];
      throw new ApiError(res.status, e.code ?? 'http', e.message ?? `HTTP ${res.status}`, e.hint ?? null, e.field ?? null, [...new Set([...(e.field ? [e.field] : []), ...issues])]);
    }
    return data as T;
  }

  get = <T>(path: string) => this.request<T>('GET', path);
  post = <T>(path: string, body: unknown = {}) => this.request<T>('POST', path, body);

  /** URL of the live event stream; the browser resumes it with Last-Event-ID on its own. */
  streamUrl(after: number): string {
    return `${this.base}/api/events/stream?after=${after}&access_token=${encodeURIComponent(this.token)}`;
  }

  // ---- system --------------------------------------------------------------------------------
  whoami = () => this.get<WhoAmI>('/api/whoami');
  /** Which routes this coordinator serves, as `METHOD /path/{param}` keys. */
  async routes(): Promise<Set<string>> {
    const doc = await this.get<{ paths: Record<string, Record<string, unknown>> }>('/api/openapi.json');
    const out = new Set<string>();
    for (const [p, ops] of Object.entries(doc.paths ?? {})) for (const m of Object.keys(ops)) out.add(`${m.toUpperCase()} ${p}`);
    return out;
  }

  // ---- tasks ---------------------------------------------------------------------------------
  board = () => this.get<BoardSnapshot>('/api/ui/board');
  /** The tasks an event touched and their card facts, in one request. */
  cards = (ids: readonly string[]) => this.get<CardsResponse>(`/api/ui/cards?ids=${ids.map(enc).join(',')}`);
  tasks = (q: { stage?: string[]; project?: string; limit?: number; cursor?: string }) => {
    const s = new URLSearchParams();
    if (q.stage?.length) s.set('stage', q.stage.join(','));
    if (q.project) s.set('project', q.project);
    if (q.limit) s.set('limit', String(q.limit));
    if (q.cursor) s.set('cursor', q.cursor);
    return this.get<TaskPage>(`/api/tasks?${s}`);
  };
  submit = (input: NewTaskInput) => this.post<{ task: Task; created: boolean }>('/api/tasks', input).then((r) => r.task);
  newTaskOptions = () => this.get<NewTaskOptions>('/api/ui/new-task');
  task = (id: string) => this.get<{ task: Task }>(`/api/tasks/${enc(id)}`).then((r) => r.task);
  taskEvents = (id: string, after = 0, limit = 1000) => this.get<{ events: GantryEvent[] }>(`/api/tasks/${enc(id)}/events?after=${after}&limit=${limit}`).then((r) => r.events);

  // ---- runs (pipeline engine) ---------------------------------------------------------------
  runs = (id: string) => this.get<RunsResponse>(`/api/tasks/${enc(id)}/runs`);
  runAction = (id: string, action: RunAction, body: { text?: string; from?: string; comments?: LineComment[] } = {}) =>
    this.post<{ run: RunView; task: Task | null }>(`/api/tasks/${enc(id)}/run/${action}`, body);

  /** The full log of one check in one round of the current run's checks step (plain text). */
  async checkLog(id: string, step: string, round: number, check: string): Promise<string> {
    const res = await fetch(`${this.base}/api/tasks/${enc(id)}/run/steps/${enc(step)}/log?round=${round}&check=${enc(check)}`, { headers: { Authorization: `Bearer ${this.token}` }, cache: 'no-store' });
    if (res.status === 401) this.onUnauthorized();
    if (!res.ok) throw new ApiError(res.status, 'http', `HTTP ${res.status}`, null);
    return res.text();
  }

  /** A step of the current run as attempts (checks rounds, agent sessions, review rounds). */
  stepAttempts = (id: string, step: string) => this.get<StepAttempts>(`/api/ui/tasks/${enc(id)}/steps/${enc(step)}/attempts`);

  /** An attempt item's log from a byte offset: poll from `next` until `done`. */
  async stepLog(id: string, step: string, ref: LogRef, offset: number): Promise<LogChunk> {
    const q = new URLSearchParams(ref.source === 'check' ? { round: String(ref.round), check: ref.check } : { session: ref.session });
    q.set('offset', String(offset));
    const res = await fetch(`${this.base}/api/ui/tasks/${enc(id)}/steps/${enc(step)}/log?${q}`, { headers: { Authorization: `Bearer ${this.token}` }, cache: 'no-store' });
    if (res.status === 401) this.onUnauthorized();
    if (!res.ok) throw new ApiError(res.status, 'http', `HTTP ${res.status}`, null);
    return { text: await res.text(), next: Number(res.headers.get('X-Log-Next') ?? offset), done: res.headers.get('X-Log-Done') === '1' };
  }

  // ---- workspaces ----------------------------------------------------------------------------
  checkpoints = (id: string) => this.get<{ checkpoints: Checkpoint[] }>(`/api/tasks/${enc(id)}/checkpoints`).then((r) => r.checkpoints);
  diff = (id: string, from?: string | number, to?: string | number) => {
    const q = new URLSearchParams();
    if (from !== undefined) q.set('from', String(from));
    if (to !== undefined) q.set('to', String(to));
    return this.get<{ diff: WorkspaceDiff }>(`/api/tasks/${enc(id)}/diff?${q}`).then((r) => r.diff);
  };
  rollback = (id: string, to: string | number, paths?: string[]) =>
    this.post<{ rollback: RollbackResult }>(`/api/tasks/${enc(id)}/rollback`, { to: String(to), ...(paths?.length ? { paths } : {}) }).then((r) => r.rollback);

  // ---- projects ------------------------------------------------------------------------------
  projects = () => this.get<{ projects: Project[] }>('/api/projects').then((r) => r.projects);
  project = (id: string) => this.get<{ project: Project }>(`/api/projects/${enc(id)}`).then((r) => r.project);
  projectSpend = (id: string) => this.get<ProjectSpend>(`/api/ui/projects/${enc(id)}/spend`);

  // ---- fleet ---------------------------------------------------------------------------------
  factories = () => this.get<{ factories: Factory[]; quarantined: Quarantine[]; staleMs: number }>('/api/fleet/factories');
  metrics = () => this.get<FleetMetrics>('/api/fleet/metrics');
  operatorAction = (id: string, action: OperatorAction, reason?: string) =>
    this.post<{ job: Task }>(`/api/fleet/jobs/${enc(id)}/actions/${action}`, reason ? { reason } : {});
  drain = (factoryId: string, drain: boolean) => this.post(`/api/fleet/factories/${enc(factoryId)}/drain`, { drain });

  // ---- people --------------------------------------------------------------------------------
  notifications = () => this.get<{ notifications: Notification[] }>('/api/notifications').then((r) => r.notifications);
  ackNotification = (id: string) => this.post(`/api/notifications/${enc(id)}/ack`);
  resolveNotification = (id: string) => this.post(`/api/notifications/${enc(id)}/resolve`);
  sessions = (taskId: string) => this.get<{ sessions: Session[] }>(`/api/sessions?task=${enc(taskId)}`).then((r) => r.sessions);
  sendInput = (sessionId: string, text: string) => this.post(`/api/sessions/${enc(sessionId)}/input`, { text });
  transcript = (sessionId: string, generation?: number) =>
    this.get<{ transcript: Transcript; agent: string }>(`/api/ui/sessions/${enc(sessionId)}/transcript${generation ? `?generation=${generation}` : ''}`).then((r) => r.transcript);
}

const enc = encodeURIComponent;
