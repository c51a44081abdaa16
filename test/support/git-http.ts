// A real git remote served over smart HTTP: `git http-backend` (git's own CGI program) behind a small
// node:http server with basic auth. Any test can clone, fetch and push through it with a URL like
// http://user:secret@127.0.0.1:PORT/repo.git, exactly as it would against a hosted remote.
// The server runs in the test's process: talk to it with async git (`gitAsync`), never execFileSync,
// which would block the event loop that serves the request.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitHttpServer {
  /** http://127.0.0.1:PORT — repositories are `${base}/<name>.git` under `root`. */
  base: string;
  /** The URL of a repository under root, with the credentials in it (what a user would configure). */
  url(repo: string, creds?: { user: string; password: string } | null): string;
  /** Requests seen, for assertions on what went over the wire (method, path, status). */
  requests: { method: string; path: string; status: number }[];
  close(): Promise<void>;
}

function cgi(req: IncomingMessage, res: ServerResponse, root: string, remoteUser: string, done: (status: number) => void): void {
  const u = new URL(req.url ?? '/', 'http://x');
  const child = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(u.pathname),
      QUERY_STRING: u.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: remoteUser,
      REMOTE_ADDR: '127.0.0.1',
      // http-backend reads the body until EOF when no length is given; gzip'd bodies are decoded by it.
      ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
      ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      // receive-pack is off for anonymous users unless this is set; auth happened above.
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.receivepack',
      GIT_CONFIG_VALUE_0: 'true',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  req.pipe(child.stdin);
  let head = Buffer.alloc(0);
  let headerDone = false;
  let status = 200;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headerDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    headerDone = true;
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const i = line.indexOf(':');
      if (i < 0) continue;
      const k = line.slice(0, i).trim();
      const v = line.slice(i + 1).trim();
      if (k.toLowerCase() === 'status') status = Number(v.split(' ')[0]);
      else res.setHeader(k, v);
    }
    res.writeHead(status);
    res.write(head.subarray(end + 4));
  });
  child.stderr.resume();
  child.on('close', () => {
    if (!headerDone) res.writeHead(500);
    res.end();
    done(status);
  });
}

/**
 * Serve every bare repository under `root`; `auth` is the one accepted user (null: no auth).
 * `anonymousRead`: clones and fetches need no credentials, pushes do (a public repository).
 */
export async function startGitHttp(root: string, auth: { user: string; password: string } | null = { user: 'gantry', password: 's3cret' }, opts: { anonymousRead?: boolean } = {}): Promise<GitHttpServer> {
  const requests: GitHttpServer['requests'] = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const record = (status: number) => requests.push({ method: req.method ?? 'GET', path, status });
    let user = 'anonymous';
    const push = path.endsWith('/git-receive-pack') || new URL(req.url ?? '/', 'http://x').searchParams.get('service') === 'git-receive-pack';
    if (auth && (push || !opts.anonymousRead)) {
      const m = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
      const [u, ...p] = m ? Buffer.from(m[1]!, 'base64').toString('utf8').split(':') : [];
      if (u !== auth.user || p.join(':') !== auth.password) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end();
        record(401);
        return;
      }
      user = u;
    }
    cgi(req, res, root, user, record);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    requests,
    url: (repo, creds = auth) => {
      const u = new URL(`${base}/${repo}`);
      if (creds) {
        u.username = creds.user;
        u.password = creds.password;
      }
      return u.toString();
    },
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

const exec = promisify(execFile);

/** git without blocking the event loop (the in-process server must keep answering). Returns stdout trimmed. */
export async function gitAsync(cwd: string, ...args: string[]): Promise<string> {
  const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
  return (await exec('git', args, { cwd, env, maxBuffer: 64 * 1024 * 1024 })).stdout.trim();
}
