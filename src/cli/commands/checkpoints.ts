// gantry checkpoints · diff · rollback · gc
import type { Command } from 'commander';
import type { CheckpointRecord, GcEntry, RollbackResult, WorkspaceDiff } from '../../ports/workspace.js';
import { action, client, examples, withCommon, type CommonFlags } from '../common.js';
import { ago, emit, table } from '../output.js';

const enc = encodeURIComponent;

export function registerCheckpointCommands(program: Command): void {
  withCommon(program.command('checkpoints <id>'))
    .description("list a task's checkpoints")
    .addHelpText('after', examples(['gantry checkpoints t-1a2b3c4d', 'gantry checkpoints t-1a2b3c4d --json']))
    .action(
      action(async (id: string, f: CommonFlags) => {
        const r = await client(f).get<{ checkpoints: CheckpointRecord[] }>(`/api/tasks/${enc(id)}/checkpoints`);
        emit(f, r, () => {
          if (r.checkpoints.length === 0) return `no checkpoints for ${id} yet`;
          const rows = r.checkpoints.map((c) => [String(c.seq), c.sha.slice(0, 12), c.step ?? '-', c.reason, String(c.filesChanged), `+${c.linesAdded} -${c.linesRemoved}`, ago(c.createdAt)]);
          return table(rows, ['#', 'COMMIT', 'STEP', 'REASON', 'FILES', 'LINES', 'WHEN']);
        });
      }),
    );

  withCommon(program.command('diff <id> [from] [to]'))
    .description('diff between two checkpoints (numbers, base, latest or a sha; default base → latest)')
    .option('--stat', 'only the file list')
    .addHelpText('after', examples(['gantry diff t-1a2b3c4d', 'gantry diff t-1a2b3c4d 2 5', 'gantry diff t-1a2b3c4d base 3 --stat']))
    .action(
      action(async (id: string, from: string | undefined, to: string | undefined, f: CommonFlags & { stat?: boolean }) => {
        const q = new URLSearchParams();
        if (from) q.set('from', from);
        if (to) q.set('to', to);
        const r = await client(f).get<{ diff: WorkspaceDiff }>(`/api/tasks/${enc(id)}/diff?${q}`);
        emit(f, r, () => {
          const d = r.diff;
          const head = `${d.from} → ${d.to}: ${d.files.length} file(s)`;
          const files = d.files.map((x) => `  ${x.status.padEnd(12)} ${x.path}  ${x.added === null ? 'binary' : `+${x.added} -${x.removed}`}`);
          if (f.stat) return [head, ...files].join('\n');
          return [head, ...files, '', d.patch, d.truncated ? '(patch truncated; see --json or git)' : ''].join('\n').trimEnd();
        });
      }),
    );

  withCommon(program.command('gc'))
    .description('repair and collect workspaces: undo interrupted provisioning, tear down finished tasks (checkpoint first), remove orphans')
    .addHelpText('after', examples(['gantry gc', 'gantry gc --json']))
    .action(
      action(async (f: CommonFlags) => {
        const r = await client(f).post<{ actions: GcEntry[] }>('/api/workspaces/gc', {});
        emit(f, r, () =>
          r.actions.length === 0
            ? 'nothing to collect'
            : table(r.actions.map((a) => [a.taskId, a.action, a.error ?? 'ok']), ['TASK', 'ACTION', 'RESULT']),
        );
      }),
    );

  withCommon(program.command('rollback <id> <checkpoint>'))
    .description('roll the workspace back to a checkpoint (after a safety checkpoint of the current state)')
    .option('--paths <paths...>', 'only these paths')
    .addHelpText('after', examples(['gantry rollback t-1a2b3c4d 3', 'gantry rollback t-1a2b3c4d 3 --paths src/app.ts src/lib']))
    .action(
      action(async (id: string, to: string, f: CommonFlags & { paths?: string[] }) => {
        const r = await client(f).post<{ rollback: RollbackResult }>(`/api/tasks/${enc(id)}/rollback`, { to, ...(f.paths ? { paths: f.paths } : {}) });
        emit(f, r, () => {
          const x = r.rollback;
          return `rolled ${id} back to ${'seq' in x.restoredTo ? `#${x.restoredTo.seq}` : x.restoredTo.sha.slice(0, 12)}: ${x.written.length} written, ${x.deleted.length} deleted (undo with: gantry rollback ${id} ${x.safety.seq})`;
        });
      }),
    );
}
