import type { Command } from 'commander';
import { action, examples, intArg } from '../common.js';
import { localize } from '../self.js';

interface DemoFlags {
  home?: string;
  port: number;
  host: string;
  exitWhenDone?: boolean;
  json?: boolean;
  timeout: number;
  factories: number;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('try Gantry with no agent CLI and no API key: a sample repository, four tasks through the standard pipeline with the scripted agent, the dashboard')
    .option('--home <dir>', 'a new or empty directory for the demo (default ~/.gantry/demo-<timestamp>)')
    .option('--port <n>', 'port of the API and dashboard (0 = any free port)', intArg('--port', 0, 65535), 4700)
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--exit-when-done', 'approve on your behalf, wait until every task shipped, print a summary and exit (0 = all shipped)')
    .option('--timeout <s>', 'with --exit-when-done: give up after this many seconds', intArg('--timeout', 10, 86_400), 300)
    .option('--factories <n>', 'in-process factories', intArg('--factories', 1, 8), 2)
    .option('--json', 'print the result as one JSON document')
    .addHelpText('after', examples(['gantry demo', 'gantry demo --exit-when-done', 'gantry demo --port 0 --home /tmp/gantry-demo --exit-when-done --json']))
    .action(
      action(async (f: DemoFlags, cmd: Command) => {
        let stop!: () => void;
        const stopSignal = new Promise<void>((r) => (stop = r));
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        const { runDemo } = await import('../../app/demo/driver.js');
        const r = await runDemo({
          home: f.home, port: f.port, anyPortIfTaken: cmd.getOptionValueSource('port') === 'default', host: f.host, exitWhenDone: f.exitWhenDone === true, json: f.json === true, timeoutS: f.timeout, factories: f.factories,
          stopSignal, out: (t) => process.stdout.write(localize(t.endsWith('\n') ? t : `${t}\n`)), err: (t) => process.stderr.write(`${localize(t)}\n`),
        });
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
        process.exitCode = r.ok || !f.exitWhenDone ? 0 : 1;
      }),
    );
}
