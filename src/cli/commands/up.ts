import { join } from 'node:path';
import type { Command } from 'commander';
import { GantryError } from '../../domain/errors.js';
import { ensureHome, resolveHome } from '../../app/home.js';
import { action, examples, intArg } from '../common.js';
import { emit } from '../output.js';
import { localize } from '../self.js';

interface UpFlags {
  port: number;
  host: string;
  home?: string;
  database?: string;
  factories: number;
  executor?: string;
  cap?: string[];
  detectCaps: boolean;
  json?: boolean;
  log?: string;
  logLevel?: string;
}

/** A socket error from binding the API port, as one line that says what to do. */
export function bindError(e: unknown, port: number, host: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new GantryError('conflict', `port ${port} on ${host} is already in use`, {
      field: 'port',
      hint: 'another `gantry up` (with another --home) or another program holds it: pass --port N, or --port 0 for any free port',
    });
  }
  if (code === 'EACCES') return new GantryError('validation', `not allowed to listen on ${host}:${port}`, { field: 'port', hint: 'use a port above 1023, e.g. --port 4700' });
  if (code === 'EADDRNOTAVAIL') return new GantryError('validation', `${host} is not an address of this machine`, { field: 'host', hint: 'use 127.0.0.1 (local) or 0.0.0.0 (every interface)' });
  return e;
}

/** What Ctrl-C says, by how many times it was pressed. Pure. */
export function stopMessage(presses: number, inFlight: readonly string[]): string {
  const n = inFlight.length;
  const tasks = `${n} running task${n === 1 ? '' : 's'} (${inFlight.slice(0, 5).join(', ')}${n > 5 ? ', …' : ''})`;
  if (presses === 1) {
    return n === 0
      ? 'stopping…'
      : `stopping: waiting for ${tasks} to reach a checkpoint and hand back their lease (up to the drain grace, 60 s) — press Ctrl-C again to stop them now`;
  }
  if (presses === 2) {
    return n === 0
      ? 'stopping now…'
      : `stopping now: interrupting ${tasks}; each checkpoints and resumes on the next \`gantry up\` — Ctrl-C once more exits at once`;
  }
  return 'exiting at once: leases still held expire and their tasks resume from the last checkpoint';
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('run the coordinator (API + dashboard) with an in-process factory, on embedded SQLite unless --database')
    .option('--port <n>', 'port (GANTRY_PORT)', intArg('--port', 0, 65535), Number(process.env.GANTRY_PORT ?? 4700))
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--home <dir>', 'Gantry home directory (GANTRY_HOME, default ~/.gantry)')
    .option('--database <url>', 'postgres://… for a fleet (GANTRY_DATABASE_URL); default embedded SQLite in the home directory')
    .option('--factories <n>', 'in-process factories', intArg('--factories', 0, 64), 1)
    .option('--executor <spec>', 'what the in-process factories run: pipeline (default) or steps[:ms] (a demo that does no work)')
    .option('--cap <list>', 'capabilities the in-process factories offer besides the detected os:, arch:, git:, agent: ones (comma-separated, repeatable)', (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((x) => x.trim()).filter(Boolean)])
    .option('--no-detect-caps', 'offer only the --cap words (no os:, arch:, git:, agent: detection)')
    .option('--log <where>', 'stdout (services), stderr, file (rotated <home>/logs/coordinator.log, the default) or a file path (GANTRY_LOG)')
    .option('--log-level <level>', 'debug, info, warn, error or silent (GANTRY_LOG_LEVEL, default info)')
    .option('--json', 'print {url, pid, home, store} as JSON once serving')
    .addHelpText('after', examples(['gantry up', 'gantry up --port 4800 --home ./.gantry', 'gantry up --host 0.0.0.0 --log stdout --log-level warn', 'gantry up --database postgres://gantry@db:5432/gantry --factories 0']))
    .action(
      action(async (f: UpFlags) => {
        const home = resolveHome(f.home);
        const database = f.database ?? process.env.GANTRY_DATABASE_URL;
        // Loaded here, not at the top: `gantry --help` and every other command stay fast.
        const [{ startCoordinator }, { createLogger }, { resolveLogOptions }] = await Promise.all([
          import('../../app/coordinator.js'),
          import('../../api/logger.js'),
          import('../../app/log-options.js'),
        ]);
        const logOptions = resolveLogOptions(f, process.env, { file: join(home.logs, 'coordinator.log'), fallback: 'file' });
        ensureHome(home);
        const log = createLogger(logOptions);
        const c = await startCoordinator({ home, port: f.port, host: f.host, database, factories: f.factories, executor: f.executor, logger: log.logger, capabilities: f.cap ?? [], detectCapabilities: f.detectCaps }).catch(async (e: unknown) => {
          await log.close();
          throw bindError(e, f.port, f.host);
        });
        // Ctrl-C is handled before anything announces that we serve: a script that reads the
        // announcement and signals at once must find the handler in place.
        const stopped = new Promise<void>((resolve) => {
          let presses = 0;
          const say = (m: string) => void process.stderr.write(`${localize(m)}\n`);
          const stop = () => {
            presses++;
            say(stopMessage(presses, c.inFlight()));
            if (presses === 2) c.hurry();
            if (presses >= 3) process.exit(130);
            if (presses > 1) return;
            void c.close().finally(() =>
              void log.close().finally(() => {
                say('stopped');
                resolve();
              }),
            );
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        // On a terminal, a login link: the token rides in the fragment, which the browser never sends
        // to a server. Anywhere else (a service's journal, a log file) only where the token is.
        const login = process.stdout.isTTY ? `${c.url}/#token=${encodeURIComponent(c.adminToken)}` : null;
        const banner = [
          `Gantry is up on ${c.store.db.dialect === 'sqlite' ? 'embedded SQLite' : 'PostgreSQL'}.`,
          login ? `  dashboard  ${login}` : `  dashboard  ${c.url}/  (sign in with the token in ${home.adminToken})`,
          ...(login ? [`  token      ${home.adminToken}`] : []),
          `  next       gantry init  (in your repository), then gantry add "what to do"`,
          `  stop       Ctrl-C`,
        ].join('\n');
        // Logs own stdout when they go there: the banner moves to stderr so stdout stays JSON lines.
        if (logOptions.destination.kind === 'stdout' && !f.json) process.stderr.write(`${banner}\n`);
        else emit(f, { url: c.url, pid: process.pid, home: home.dir, store: c.store.db.dialect }, () => banner);
        await stopped;
      }),
    );
}
