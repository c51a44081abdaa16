// gantry factory · factories [enroll|drain] · requeue · reject · cancel · ship
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { GantryError } from '../../domain/errors.js';
import type { Task } from '../../domain/task.js';
import type { FactoryView, QuarantineRecord } from '../../ports/fleet.js';
import { resolveHome } from '../../app/home.js';
import type { HttpCoordinatorClient } from '../../fleet/http-client.js';
import { CoordinatorUnreachable } from '../../ports/fleet.js';
import { resolveTarget } from '../client.js';
import { action, client, examples, intArg, withCommon, type CommonFlags } from '../common.js';
import { ago, emit, table } from '../output.js';
import { createLogger } from '../../api/logger.js';
import { resolveLogOptions } from '../../app/log-options.js';

const csv = (v: string, prev: string[] = []): string[] => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

interface FactoryFlags extends CommonFlags {
  name?: string;
  capabilities?: string[];
  detectCaps: boolean;
  slots: number;
  executor?: string;
  drainGrace: number;
  log?: string;
  logLevel?: string;
}

/** The factory id: the one its token was enrolled as, else the one remembered in its home. */
async function factoryIdFor(c: HttpCoordinatorClient, dir: string, name: string): Promise<string> {
  const file = join(dir, 'factory.json');
  let remembered: string | undefined;
  try {
    remembered = (JSON.parse(readFileSync(file, 'utf8')) as { factoryId?: string }).factoryId;
  } catch {
    remembered = undefined;
  }
  let id: string | null = null;
  for (let attempt = 0; ; attempt++) {
    try {
      id = await c.self();
      break;
    } catch (e) {
      // Offline at start: a factory that knows who it is still drains its outbox when the coordinator returns.
      if (e instanceof CoordinatorUnreachable && remembered) break;
      if (!(e instanceof CoordinatorUnreachable) || attempt >= 20) throw e;
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
    }
  }
  const factoryId = id ?? remembered ?? `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, `${JSON.stringify({ factoryId, name })}\n`);
  return factoryId;
}

export function registerFleetCommands(program: Command): void {
  withCommon(program.command('factory'))
    .description('run a factory: claim tasks from a coordinator and execute them (SIGTERM drains gracefully)')
    .option('--name <name>', 'factory name (default: this host name)')
    .option('--cap, --capabilities <list>', 'capabilities this factory offers besides the detected os:, arch:, git:, agent: ones (comma-separated, repeatable)', csv)
    .option('--no-detect-caps', 'offer only the --cap words (no os:, arch:, git:, agent: detection)')
    .option('--slots <n>', 'tasks run at once', intArg('--slots', 1, 64), 1)
    .option('--executor <spec>', 'what runs a task (default: the pipeline engine; `steps[:ms]` is a demo that does no work)')
    .option('--drain-grace <ms>', 'on SIGTERM, how long in-flight work may finish before it is handed back', intArg('--drain-grace', 0, 3_600_000), 60_000)
    .option('--log <where>', 'stderr (the default), stdout, file (rotated <home>/logs/factory-<name>.log) or a file path (GANTRY_LOG)')
    .option('--log-level <level>', 'debug, info, warn, error or silent (GANTRY_LOG_LEVEL, default info)')
    .addHelpText('after', examples(['GANTRY_TOKEN_FILE=/etc/gantry/factory.token gantry factory --url http://coord:4700 --capabilities linux,node --slots 2', 'gantry factory --url http://coord:4700 --token-file ~/.config/gantry/factory.token']))
    .action(
      action(async (f: FactoryFlags) => {
        const target = resolveTarget(f);
        const name = f.name ?? hostname();
        const home = resolveHome(f.home);
        const logOptions = resolveLogOptions(f, process.env, { file: join(home.logs, `factory-${name.replace(/[^A-Za-z0-9_.-]/g, '-')}.log`), fallback: 'stderr' });
        const dir = join(home.dir, 'factories', name.replace(/[^A-Za-z0-9_.-]/g, '-'));
        // What this host offers is detected while the rest loads.
        const capabilities = import('../../app/capabilities.js').then((m) => m.factoryCapabilities(f.capabilities ?? [], { detect: f.detectCaps }));
        capabilities.catch(() => undefined);
        const spec = f.executor ?? 'pipeline';
        const [{ Factory }, { HttpCoordinatorClient }, { executorFrom }, { SqliteOutbox }, { remotePipelineExecutor }] = await Promise.all([
          import('../../fleet/factory.js'),
          import('../../fleet/http-client.js'),
          import('../../fleet/executors.js'),
          import('../../store/fleet-outbox.js'),
          import('../../app/remote-factory.js'),
        ]);
        // A bad --executor is refused before anything starts.
        const named = spec === 'pipeline' ? null : executorFrom(spec);
        const http = new HttpCoordinatorClient(target);
        const factoryId = await factoryIdFor(http, dir, name);
        const outbox = new SqliteOutbox(join(dir, 'outbox.db'));
        const logging = createLogger(logOptions);
        const logger = logging.logger.child?.({ component: 'factory', factoryId }) ?? logging.logger;
        const log = (m: string, fields?: Record<string, unknown>): void => logger.info(m, fields);
        // The pipeline engine: agents and workspaces here, runs and steps on the coordinator (fenced).
        const pipeline = named
          ? null
          : await remotePipelineExecutor({
              dir,
              factoryId,
              transport: http,
              secrets: { dirs: [home.dir], files: [f.tokenFile, process.env.GANTRY_TOKEN_FILE].filter((x): x is string => Boolean(x)).map((x) => resolve(x)) },
              log: { info: log, warn: (m, fields) => logger.warn(m, fields) },
              ...(process.env.GANTRY_ENGINE_PATIENCE_MS ? { api: { patienceMs: Number(process.env.GANTRY_ENGINE_PATIENCE_MS) } } : {}),
            });
        const executor = named ?? pipeline!.executor;
        const factory = new Factory({
          factoryId,
          name,
          capabilities: await capabilities,
          slots: f.slots,
          client: http,
          executor,
          outbox,
          drainGraceMs: f.drainGrace,
          secrets: [target.token],
          log,
          ...(process.env.GANTRY_HEARTBEAT_MS ? { heartbeatMs: Number(process.env.GANTRY_HEARTBEAT_MS) } : {}),
          ...(process.env.GANTRY_RENEW_MS ? { renewEveryMs: Number(process.env.GANTRY_RENEW_MS) } : {}),
          ...(process.env.GANTRY_POLL_MS ? { pollMs: Number(process.env.GANTRY_POLL_MS) } : {}),
        });
        const stopped = new Promise<void>((resolve) => {
          let stopping = false;
          const stop = (): void => {
            if (stopping) return;
            stopping = true;
            void factory.drain().finally(() => resolve());
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await factory.start();
        emit(f, { factoryId, name, url: target.url, slots: f.slots }, () => `factory ${factoryId} (${name}) serving ${target.url} with ${f.slots} slot(s); SIGTERM drains`);
        await stopped;
        await pipeline?.stop();
        const quarantined = await outbox.quarantined();
        if (quarantined.length) log('quarantined results kept in the outbox', { count: quarantined.length, outbox: join(dir, 'outbox.db') });
        await outbox.close();
        await logging.close();
      }),
    );

  const factories = program.command('factories').description('the fleet: factories, their health, load and leases');
  factories.addHelpText('after', examples(['gantry factories', 'gantry factories enroll build-1 --capabilities linux,node', 'gantry factories drain f-build-1']));
  withCommon(factories.command('list', { isDefault: true }))
    .description('list factories with health, load and leases, and recently quarantined results')
    .addHelpText('after', examples(['gantry factories list', 'gantry factories --json']))
    .action(
      action(async (f: CommonFlags) => {
        const r = await client(f).get<{ factories: FactoryView[]; quarantined: QuarantineRecord[] }>('/api/fleet/factories');
        emit(f, r, () => {
          if (r.factories.length === 0) return 'no factories yet (start one with `gantry factory`, or `gantry up`)';
          const rows = r.factories.map((x) => [
            x.id,
            x.name,
            x.drain ? 'draining' : x.live ? 'live' : x.state === 'enrolled' ? 'enrolled' : 'stale',
            `${x.leases.length}/${x.slots}`,
            x.lastHeartbeatAt ? ago(x.lastHeartbeatAt) : '-',
            x.leases.map((l) => `${l.taskId}@${l.epoch}(${l.stage})`).join(' ') || '-',
          ]);
          const out = [table(rows, ['ID', 'NAME', 'STATE', 'LOAD', 'HEARTBEAT', 'LEASES'])];
          if (r.quarantined.length) {
            out.push('', 'quarantined results (a fenced factory kept them; never shipped):');
            out.push(table(r.quarantined.map((q) => [q.taskId, String(q.epoch), q.factoryId, ago(q.reportedAt), q.reason]), ['TASK', 'EPOCH', 'FACTORY', 'WHEN', 'REASON']));
          }
          return out.join('\n');
        });
      }),
    );
  withCommon(factories.command('enroll <name>'))
    .description('enroll a factory: prints its id and a token (shown once; pass it to `gantry factory --token`)')
    .option('--capabilities <list>', 'capabilities (comma-separated)', csv)
    .addHelpText('after', examples(['gantry factories enroll build-1 --capabilities linux,node', 'gantry factories enroll gpu-1 --capabilities linux,gpu --json']))
    .action(
      action(async (name: string, f: CommonFlags & { capabilities?: string[] }) => {
        const r = await client(f).post<{ factoryId: string; token: string }>('/api/fleet/factories/enroll', { name, capabilities: f.capabilities ?? [] });
        emit(f, { factoryId: r.factoryId, token: r.token }, () => `enrolled ${r.factoryId}\ntoken ${r.token}\nrun: save the token in a file only you can read, then gantry factory --url <coordinator> --token-file <file> --name ${name}`);
      }),
    );
  withCommon(factories.command('drain <id>'))
    .description('ask a factory to stop claiming (it finishes what it holds); --resume lifts it')
    .option('--resume', 'lift the drain')
    .addHelpText('after', examples(['gantry factories drain f-build-1', 'gantry factories drain f-build-1 --resume']))
    .action(
      action(async (id: string, f: CommonFlags & { resume?: boolean }) => {
        const r = await client(f).post<{ factory: FactoryView }>(`/api/fleet/factories/${encodeURIComponent(id)}/drain`, { drain: !f.resume });
        emit(f, r, () => `${r.factory.id} ${r.factory.drain ? 'draining' : 'claiming again'}`);
      }),
    );

  const actions: Array<[string, string]> = [
    ['requeue', 'put a task back in the queue (fences its current holder; keeps the checkpoint)'],
    // reject and cancel are in commands/runs.ts: they answer a parked run, else fall back to these operator actions.
    ['ship', 'mark a task shipped by hand (fences its holder; unblocks dependents)'],
  ];
  for (const [name, what] of actions) {
    withCommon(program.command(`${name} <id>`))
      .description(what)
      .option('--reason <text>', 'why (recorded in the event log)')
      .addHelpText('after', examples([`gantry ${name} t-1a2b3c4d`, `gantry ${name} t-1a2b3c4d --reason "${name === 'ship' ? 'merged by hand' : 'the factory host was replaced'}"`]))
      .action(
        action(async (id: string, f: CommonFlags & { reason?: string }) => {
          if (!/^[\w-]+$/.test(id)) throw new GantryError('validation', `not a task id: ${id}`, { hint: 'task ids look like t-1a2b3c4d; list them with `gantry ls`' });
          const r = await client(f).post<{ job: Task }>(`/api/fleet/jobs/${encodeURIComponent(id)}/actions/${name}`, f.reason ? { reason: f.reason } : {});
          emit(f, { task: r.job }, () => `${r.job.id} → ${r.job.stage} (lease epoch ${r.job.leaseEpoch})`);
        }),
      );
  }
}
