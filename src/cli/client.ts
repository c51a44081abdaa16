// How the CLI finds and talks to a coordinator: flags, then env, then the home directory's
// daemon.json and admin.token (DESIGN §10). Tokens come from files or the environment, so they
// need never be on a command line (where `ps` shows them to every user of the host).
import { readFileSync } from 'node:fs';
import { GantryError, type ErrorCode } from '../domain/errors.js';
import { readAdminToken, readDaemon, resolveHome } from '../app/home.js';

export interface Target {
  url: string;
  token: string;
}

export interface ConnectionFlags {
  url?: string;
  token?: string;
  tokenFile?: string;
  home?: string;
}

export function resolveTarget(f: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Target {
  const home = resolveHome(f.home, env);
  const url = f.url || env.GANTRY_URL || readDaemon(home)?.url;
  if (!url) {
    throw new GantryError('bad_request', `no running coordinator found for ${home.dir}`, { hint: 'start one with `gantry up`, or pass --url / set GANTRY_URL' });
  }
  if (f.token && f.tokenFile) throw new GantryError('validation', '--token and --token-file both given', { field: 'token-file', hint: 'pass only --token-file' });
  const token =
    f.token ||
    (f.tokenFile ? readTokenFile(f.tokenFile, '--token-file') : '') ||
    env.GANTRY_TOKEN ||
    (env.GANTRY_TOKEN_FILE ? readTokenFile(env.GANTRY_TOKEN_FILE, 'GANTRY_TOKEN_FILE') : '') ||
    readAdminToken(home);
  if (!token) throw new GantryError('unauthorized', 'no API token', { hint: `pass --token-file, set GANTRY_TOKEN_FILE or GANTRY_TOKEN, or run on the machine where ${home.adminToken} exists` });
  return { url: url.replace(/\/+$/, ''), token };
}

/** The token in `path` (first line, trimmed). A missing, unreadable or empty file is an error naming `source`. */
export function readTokenFile(path: string, source: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
    throw new GantryError('validation', `${source}: ${path} ${why}`, { field: source, hint: 'point it at a file holding the token, readable only by this user (chmod 600)' });
  }
  const token = text.split(/\r?\n/)[0]!.trim();
  if (!token) throw new GantryError('validation', `${source}: ${path} is empty`, { field: source, hint: 'write the token on its first line' });
  return token;
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
      const api = err.message ?? `HTTP ${res.status}`;
      const message = inCliWords(api);
      // The API's hint points at its schema; a person at a terminal wants the command's help.
      const hint = message !== api && err.hint?.includes('/api/openapi.json') ? 'see --help for the options and their values' : err.hint;
      throw new GantryError((err.code as ErrorCode) ?? 'internal', message, {
        ...(hint ? { hint } : {}),
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

/** API field names the CLI spells differently; the rest are `--<kebab-case>`. */
const FLAG_OF: Readonly<Record<string, string>> = { capabilities: '--cap', idempotencyKey: '--key', title: 'the title', text: 'the text', path: 'the path' };

/**
 * An API validation message in the CLI's words: `query.stage[0]: Invalid option…` becomes
 * `--stage: Invalid option…`, so the person sees the flag they typed, not the request it became.
 */
export function inCliWords(message: string): string {
  return message.replace(/\b(?:query|body)\.([A-Za-z]+)(?:\[\d+\])?(?:\.[\w.[\]]+)?:/g, (_m, name: string) => `${FLAG_OF[name] ?? `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`}:`);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { error: { message: text.slice(0, 200) } };
  }
}
