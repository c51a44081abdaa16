// bench/api: what the HTTP layer costs on a typical read (GET /api/tasks/:id) and write
// (POST /api/tasks), against a bare node:http handler doing the same store call in the same
// process and run (no auth, validation, routing, headers, logging or metrics), and against that
// handler plus the token lookup. Requests alternate between the servers in rounds, so all see the
// same machine; latency is per request, from
// the client, over one keep-alive connection per client (node:http Agent).
//   node --import tsx bench/api.ts        (BENCH_N requests per route and server, default 2000; BENCH_C clients, default 1 and 8)
import { Agent, createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCoordinator } from '../src/app/coordinator.js';
import { resolveHome } from '../src/app/home.js';
import { silentLogger } from '../src/api/logger.js';
import { makeRepo } from '../test/support/git.js';
import { printTable, ratio } from './lib.js';

const N = Number(process.env.BENCH_N ?? 2000);
const CLIENTS = process.env.BENCH_C ? [Number(process.env.BENCH_C)] : [1, 8];
const ROUNDS = 10;

const homeDir = mkdtempSync(join(tmpdir(), 'gantry-bench-api-'));
const repo = makeRepo();
const c = await startCoordinator({ home: resolveHome(homeDir), port: 0, host: '127.0.0.1', factories: 0, logger: silentLogger });
const store = c.store;
const project = (await store.projects.create({ name: 'bench', path: repo, defaultBranch: 'main', config: {} })).id;
const ids: string[] = [];
for (let i = 0; i < 200; i++) ids.push((await store.tasks.submit(newTask(`seed ${i}`))).task.id);

function newTask(title: string) {
  return { projectId: project, title, body: '', pipeline: 'standard', agent: null, priority: 0, capabilities: [], after: [], idempotencyKey: null, maxAttempts: 3 };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const ch of req as AsyncIterable<Buffer>) chunks.push(ch);
  return Buffer.concat(chunks).toString('utf8');
}

// The raw operation beneath each route: node:http, the same store call, JSON out. With `auth`, it
// also looks the bearer token up, as any authenticated API must: what is left between that and
// Gantry is the layer itself (routing, validation, headers, compression, metrics, logging).
const rawServer = (auth: boolean) => createServer((req, res) => {
  void (async () => {
    if (auth && !(await store.tokens.verify((req.headers.authorization ?? '').slice(7)))) {
      res.writeHead(401).end();
      return;
    }
    if (req.method === 'GET') {
      const task = await store.tasks.get(req.url!.slice('/api/tasks/'.length));
      const text = JSON.stringify({ task });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    } else {
      const b = JSON.parse(await readBody(req)) as { title: string };
      const r = await store.tasks.submit(newTask(b.title));
      const text = JSON.stringify({ task: r.task, created: r.created });
      res.writeHead(201, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    }
  })();
});
const listen = async (srv: ReturnType<typeof createServer>): Promise<string> => {
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
};
const bare = rawServer(false);
const bareAuth = rawServer(true);
const bareUrl = await listen(bare);
const bareAuthUrl = await listen(bareAuth);

type Call = (base: string, agent: Agent, i: number) => Promise<void>;
const headers = { authorization: `Bearer ${c.adminToken}`, 'content-type': 'application/json' };

function call(url: string, agent: Agent, method: string, body: string | null, want: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: body === null ? headers : { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (ch: Buffer) => chunks.push(ch));
      res.on('end', () => (res.statusCode === want ? resolve() : reject(new Error(`${method} ${url}: HTTP ${res.statusCode} ${Buffer.concat(chunks).toString()}`))));
    });
    // A kept-alive socket the server closed while idle (keepAliveTimeout): retry once, as Node's docs advise.
    req.on('error', (e: NodeJS.ErrnoException) => (req.reusedSocket && e.code === 'ECONNRESET' ? call(url, agent, method, body, want).then(resolve, reject) : reject(e)));
    req.end(body ?? undefined);
  });
}
const read: Call = (base, agent, i) => call(`${base}/api/tasks/${ids[i % ids.length]}`, agent, 'GET', null, 200);
const write: Call = (base, agent, i) => call(`${base}/api/tasks`, agent, 'POST', JSON.stringify({ title: `bench ${i}`, project }), 201);

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

/** Runs `per` calls with `clients` concurrent keep-alive clients; returns each call's latency in ms. */
async function timed(op: Call, base: string, agent: Agent, per: number, clients: number, offset: number): Promise<number[]> {
  const out: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = next++; i < per; i = next++) {
        const t0 = performance.now();
        await op(base, agent, offset + i);
        out.push(performance.now() - t0);
      }
    }),
  );
  return out;
}

try {
  const rows: (string | number)[][] = [];
  for (const clients of CLIENTS) {
    for (const [name, op] of [['GET /api/tasks/:id', read], ['POST /api/tasks', write]] as const) {
      const targets = { bare: bareUrl, auth: bareAuthUrl, gantry: c.url };
      const agents = { bare: new Agent({ keepAlive: true, maxSockets: clients }), auth: new Agent({ keepAlive: true, maxSockets: clients }), gantry: new Agent({ keepAlive: true, maxSockets: clients }) };
      const lat = { bare: [] as number[], auth: [] as number[], gantry: [] as number[] };
      const kinds = Object.keys(targets) as Array<keyof typeof targets>;
      for (const k of kinds) await timed(op, targets[k], agents[k], 100, clients, 0); // warm-up
      const per = Math.max(1, Math.floor(N / ROUNDS));
      for (let r = 0; r < ROUNDS; r++) for (const k of kinds) lat[k].push(...(await timed(op, targets[k], agents[k], per, clients, r * per)));
      for (const k of kinds) agents[k].destroy();
      const p = (k: keyof typeof lat, q: number) => pct(lat[k], q);
      rows.push([`${name} ×${clients}`, p('bare', 50), p('auth', 50), p('gantry', 50), ratio(p('gantry', 50), p('bare', 50)), ratio(p('gantry', 50), p('auth', 50)), p('bare', 99), p('gantry', 99), ratio(p('gantry', 99), p('bare', 99))]);
    }
  }
  printTable(
    `HTTP layer vs bare node:http, same store call (${N} requests per cell, ms; +auth: bare plus the token lookup)`,
    ['route × clients', 'bare p50', '+auth p50', 'gantry p50', '÷bare', '÷+auth', 'bare p99', 'gantry p99', '÷bare'],
    rows,
  );
} finally {
  bare.close();
  bareAuth.close();
  await c.close();
  rmSync(homeDir, { recursive: true, force: true });
  rmSync(repo, { recursive: true, force: true });
}
