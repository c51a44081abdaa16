// Desktop notifications through `notify-send` (libnotify) where the machine has it; elsewhere the
// channel reports why it is unavailable and deliveries to it are recorded as skipped.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { NotificationChannel, NotificationMessage } from '../ports/lifecycle.js';

export function findOnPath(cmd: string, path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

const URGENCY = { low: 'low', normal: 'normal', high: 'critical', urgent: 'critical' } as const;

export class DesktopChannel implements NotificationChannel {
  readonly type = 'desktop';
  private readonly bin: string | null;

  constructor(readonly name: string, opts: { path?: string; bin?: string | null } = {}) {
    this.bin = opts.bin !== undefined ? opts.bin : findOnPath('notify-send', opts.path);
  }

  unavailable(): string | null {
    return this.bin ? null : 'notify-send is not installed (install libnotify-bin) — desktop notifications are skipped';
  }

  send(m: NotificationMessage): Promise<void> {
    const bin = this.bin;
    if (!bin) return Promise.resolve();
    const body = [m.reason === 'escalated' ? 'Still waiting for someone.' : '', m.sessionId ? `session ${m.sessionId}` : '', m.taskId ? `task ${m.taskId}` : '']
      .filter(Boolean).join(' · ');
    return new Promise((resolve, reject) => {
      execFile(bin, ['-a', 'Gantry', '-u', URGENCY[m.priority], `Gantry: ${m.title}`, body], { timeout: 10_000 }, (err) => (err ? reject(err) : resolve()));
    });
  }
}
