import { join } from 'node:path';
import type { Command } from 'commander';
import { startCoordinator } from '../../app/coordinator.js';
import { ensureHome, resolveHome } from '../../app/home.js';
import { createLogger } from '../../api/logger.js';
import { resolveLogOptions } from '../../app/log-options.js';
import { action, examples, intArg } from '../common.js';
import { emit } from '../output.js';

interface UpFlags {
  port: number;
  host: string;
  home?: string;
  database?: string;
  factories: number;
  executor?: string;
  json?: boolean;
  log?: string;
  logLevel?: string;
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
    .option('--log <where>', 'stdout (services), stderr, file (rotated <home>/logs/coordinator.log, the default) or a file path (GANTRY_LOG)')
    .option('--log-level <level>', 'debug, info, warn, error or silent (GANTRY_LOG_LEVEL, default info)')
    .option('--json', 'print {url, pid, home} as JSON once serving')
    .addHelpText('after', examples(['gantry up', 'gantry up --port 4800 --home ./.gantry', 'gantry up --host 0.0.0.0 --log stdout --log-level warn', 'gantry up --database postgres://gantry@db:5432/gantry --factories 0']))
    .action(
      action(async (f: UpFlags) => {
        const home = resolveHome(f.home);
        const database = f.database ?? process.env.GANTRY_DATABASE_URL;
        const logOptions = resolveLogOptions(f, process.env, { file: join(home.logs, 'coordinator.log'), fallback: 'file' });
        ensureHome(home);
        const log = createLogger(logOptions);
        const c = await startCoordinator({ home, port: f.port, host: f.host, database, factories: f.factories, executor: f.executor, logger: log.logger }).catch(async (e: unknown) => {
          await log.close();
          throw e;
        });
        const banner = [`Gantry is up on ${c.store.db.dialect === 'sqlite' ? 'embedded SQLite' : 'PostgreSQL'}.`, `  dashboard  ${c.url}/`, `  token      ${home.adminToken}`, `  stop       Ctrl-C`].join('\n');
        // Logs own stdout when they go there: the banner moves to stderr so stdout stays JSON lines.
        if (logOptions.destination.kind === 'stdout' && !f.json) process.stderr.write(`${banner}\n`);
        else emit(f, { url: c.url, pid: process.pid, home: home.dir, store: c.store.db.dialect }, () => banner);
        await new Promise<void>((resolve) => {
          let stopping = false;
          const stop = () => {
            if (stopping) return;
            stopping = true;
            void c.close().finally(() => void log.close().finally(resolve));
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      }),
    );
}
