// Streams what a remote factory's agents and checks write to the coordinator (docs/fleet.md): each log
// file of a task — agent session logs under logs/sessions/<session>/, check logs under
// logs/checks/<task>/ — goes in chunks from the byte offset the coordinator acknowledged, fenced by
// the task's lease. A resent chunk is skipped there and a gap is answered with the size to resume
// from, so a restarted factory (which forgot its offsets) resumes without duplicating anything.
// Shipping never fails a run: a failed send is retried on the next pass and logged.
import { existsSync, openSync, readdirSync, readSync, closeSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isGantryError } from '../domain/errors.js';
import type { EngineApi } from './remote-engine.js';

const CHUNK = 256 * 1024;

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p, keep));
    else if (e.isFile() && keep(e.name)) out.push(p);
  }
  return out;
}

export interface ShippedTask {
  taskId: string;
  epoch: number;
  /** The runs of the task this execution drove: their sessions' logs are the task's. */
  runIds(): Iterable<string>;
}

export class LogShipper {
  /** Bytes the coordinator holds per local file. */
  private readonly acked = new Map<string, number>();

  constructor(
    private readonly api: EngineApi,
    private readonly logsDir: string,
    private readonly warn: (msg: string, fields?: Record<string, unknown>) => void = () => undefined,
  ) {}

  /** Ships every pass `everyMs` until stopped; `stop()` ships what is left. */
  follow(t: ShippedTask, everyMs = 1_000): { stop(): Promise<void> } {
    let pass: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      pass = pass.then(() => this.ship(t));
    }, everyMs);
    timer.unref();
    return {
      stop: async () => {
        clearInterval(timer);
        await pass;
        await this.ship(t);
      },
    };
  }

  async ship(t: ShippedTask): Promise<void> {
    const sessions = join(this.logsDir, 'sessions');
    const runs = [...t.runIds()];
    const sessionDirs = existsSync(sessions) ? readdirSync(sessions).filter((d) => runs.some((r) => d.startsWith(r))) : [];
    const files: Array<{ kind: 'sessions' | 'checks'; root: string; file: string }> = [
      ...sessionDirs.flatMap((d) => filesUnder(join(sessions, d), (n) => n.endsWith('.log')).map((file) => ({ kind: 'sessions' as const, root: sessions, file }))),
      ...filesUnder(join(this.logsDir, 'checks', t.taskId), () => true).map((file) => ({ kind: 'checks' as const, root: join(this.logsDir, 'checks'), file })),
    ];
    for (const f of files) {
      try {
        await this.shipFile(t, f.kind, f.file, relative(f.root, f.file));
      } catch (e) {
        if (isGantryError(e) && e.code === 'stale_epoch') return; // the lease moved: its logs are no longer ours to send
        this.warn('log not streamed to the coordinator yet', { taskId: t.taskId, file: f.file, err: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  private async shipFile(t: ShippedTask, kind: 'sessions' | 'checks', file: string, path: string): Promise<void> {
    const size = statSync(file).size;
    let from = this.acked.get(file) ?? 0;
    while (from < size) {
      const buf = Buffer.alloc(Math.min(CHUNK, size - from));
      const fd = openSync(file, 'r');
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, from);
      } finally {
        closeSync(fd);
      }
      if (n <= 0) break;
      try {
        from = (await this.api.call<{ size: number }>('POST', `/api/fleet/jobs/${encodeURIComponent(t.taskId)}/logs`, { leaseEpoch: t.epoch, kind, path, offset: from, data: buf.subarray(0, n).toString('base64') })).size;
      } catch (e) {
        const held = isGantryError(e) && e.code === 'conflict' ? Number(e.details?.size) : NaN;
        if (!Number.isInteger(held)) throw e;
        from = held; // the coordinator has fewer bytes than we thought (it lost them, or we restarted): resume there
      }
      this.acked.set(file, from);
    }
  }
}
