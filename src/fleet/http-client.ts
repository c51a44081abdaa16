// CoordinatorClient over HTTP (a standalone `gantry factory`). Network failures, timeouts and 5xx
// become CoordinatorUnreachable (retry later, keep working); a 409 becomes GantryError('stale_epoch'
// or 'conflict'); other 4xx become the GantryError the server sent.
import { GantryError, type ErrorCode } from '../domain/errors.js';
import type { CheckpointPointer, Stage } from '../domain/task.js';
import { CoordinatorUnreachable, type ClaimResponse, type CoordinatorClient, type HeartbeatFacts, type ReleaseOutcome, type Report } from '../ports/fleet.js';

export interface HttpClientOptions {
  url: string;
  token: string;
  /** Per-request timeout (long polls add their wait to it). */
  timeoutMs?: number;
}

export class HttpCoordinatorClient implements CoordinatorClient {
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(private readonly o: HttpClientOptions) {
    this.base = o.url.replace(/\/+$/, '');
    this.timeoutMs = o.timeoutMs ?? 30_000;
  }

  async request<T>(method: string, path: string, body?: unknown, opts: { signal?: AbortSignal; extraMs?: number } = {}): Promise<{ status: number; data: T }> {
    const timeout = AbortSignal.timeout(this.timeoutMs + (opts.extraMs ?? 0));
    const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: { Authorization: `Bearer ${this.o.token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal,
      });
    } catch (e) {
      throw new CoordinatorUnreachable(`cannot reach the coordinator at ${this.base}: ${e instanceof Error ? e.message : String(e)}`, e);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw new CoordinatorUnreachable(`connection to ${this.base} dropped mid-response`, e);
    }
    if (res.status >= 500 || res.status === 429) throw new CoordinatorUnreachable(`coordinator answered HTTP ${res.status}`);
    const data = text ? parseJson(text) : {};
    if (!res.ok) {
      const err = ((data as { error?: unknown }).error ?? {}) as { code?: string; message?: string; hint?: string; field?: string; details?: Record<string, unknown> };
      throw new GantryError((err.code as ErrorCode | undefined) ?? (res.status === 409 ? 'conflict' : 'bad_request'), err.message ?? `HTTP ${res.status}`, {
        ...(err.hint ? { hint: err.hint } : {}),
        ...(err.field ? { field: err.field } : {}),
        ...(err.details ? { details: err.details } : {}),
      });
    }
    return { status: res.status, data: data as T };
  }

  async self(): Promise<string | null> {
    return (await this.request<{ factoryId: string | null }>('GET', '/api/fleet/factories/self')).data.factoryId;
  }

  async heartbeat(hb: HeartbeatFacts): Promise<{ serverTime: number; drain: boolean }> {
    return (await this.request<{ serverTime: number; drain: boolean }>('POST', '/api/fleet/factories/heartbeat', hb)).data;
  }

  async claim(factoryId: string, capabilities: string[]): Promise<ClaimResponse | null> {
    const r = await this.request<ClaimResponse>('POST', '/api/fleet/claim', { factoryId, capabilities });
    return r.status === 204 ? null : r.data;
  }

  async patch(taskId: string, body: { leaseEpoch: number; stage: Stage; checkpoint?: CheckpointPointer | null }): Promise<void> {
    await this.request('PATCH', `/api/fleet/jobs/${encodeURIComponent(taskId)}`, body);
  }

  async renew(taskId: string, leaseEpoch: number): Promise<{ leaseExpiresAt: number }> {
    return (await this.request<{ leaseExpiresAt: number }>('POST', `/api/fleet/jobs/${encodeURIComponent(taskId)}/lease/renew`, { leaseEpoch })).data;
  }

  async release(taskId: string, body: { leaseEpoch: number; outcome: ReleaseOutcome; report: Report; checkpoint?: CheckpointPointer | null }): Promise<void> {
    await this.request('POST', `/api/fleet/jobs/${encodeURIComponent(taskId)}/lease/release`, body);
  }

  async quarantine(taskId: string, body: { factoryId: string; leaseEpoch: number; reason: string }): Promise<void> {
    await this.request('POST', `/api/fleet/jobs/${encodeURIComponent(taskId)}/quarantine`, body);
  }

  async waitForWork(since: number, timeoutMs: number, signal: AbortSignal): Promise<number> {
    try {
      const q = `since=${since}&wait=${Math.min(60_000, Math.max(0, Math.round(timeoutMs)))}`;
      return (await this.request<{ version: number }>('GET', `/api/fleet/queue-state?${q}`, undefined, { signal, extraMs: timeoutMs })).data.version;
    } catch (e) {
      if (signal.aborted) return since;
      throw e;
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { error: { message: text.slice(0, 200) } };
  }
}
