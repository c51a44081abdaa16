// How the CLI finds and talks to a coordinator: flags, then env, then the home directory's
// daemon.json and admin.token (DESIGN §10).
import { GantryError, type ErrorCode } from '../domain/errors.js';
import { readAdminToken, readDaemon, resolveHome } from '../app/home.js';

export interface Target {
  url: string;
  token: string;
}

export interface ConnectionFlags {
  url?: string;
  token?: string;
  home?: string;
}

export function resolveTarget(f: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Target {
  const home = resolveHome(f.home, env);
  const url = f.url || env.GANTRY_URL || readDaemon(home)?.url;
  if (!url) {
    throw new GantryError('bad_request', `no running coordinator found for ${home.dir}`, { hint: 'start one with `gantry up`, or pass --url / set GANTRY_URL' });
  }
  const token = f.token || env.GANTRY_TOKEN || readAdminToken(home);
  if (!token) throw new GantryError('unauthorized', 'no API token', { hint: `pass --token, set GANTRY_TOKEN, or run on the machine where ${home.adminToken} exists` });
  return { url: url.replace(/\/+$/, ''), token };
}

export class ApiClient {
  constructor(readonly target: Target) {}

  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.target.url}${path}`, {
        method,
        headers: { Authorization: `Bearer ${this.target.token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      throw new GantryError('bad_request', `cannot reach the coordinator at ${this.target.url}`, { hint: 'is `gantry up` running? check --url / GANTRY_URL' });
    }
    const text = await res.text();
    const data = text ? (safeJson(text) as Record<string, unknown>) : {};
    if (!res.ok) {
      const err = (data?.error ?? {}) as { code?: string; message?: string; hint?: string; field?: string };
      throw new GantryError((err.code as ErrorCode) ?? 'internal', err.message ?? `HTTP ${res.status}`, {
        ...(err.hint ? { hint: err.hint } : {}),
        ...(err.field ? { field: err.field } : {}),
      });
    }
    return data as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { error: { message: text.slice(0, 200) } };
  }
}
