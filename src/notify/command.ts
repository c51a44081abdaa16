// Command hook channel: runs a configured command (argv, no shell) with the notification JSON on
// stdin. Exit code 0 is success; anything else is retried like any failed send.
import { spawn } from 'node:child_process';
import type { NotificationChannel, NotificationMessage } from '../ports/lifecycle.js';

export class CommandChannel implements NotificationChannel {
  readonly type = 'command';

  constructor(readonly name: string, private readonly o: { command: readonly string[]; timeoutMs?: number; env?: NodeJS.ProcessEnv }) {}

  unavailable(): string | null {
    return null;
  }

  send(m: NotificationMessage): Promise<void> {
    const [cmd, ...args] = this.o.command;
    return new Promise((resolve, reject) => {
      const child = spawn(cmd!, args, { stdio: ['pipe', 'ignore', 'pipe'], env: { ...(this.o.env ?? process.env), GANTRY_NOTIFICATION_ID: m.id } });
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), this.o.timeoutMs ?? 30_000);
      child.stderr.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-500);
      });
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`command ${this.name}: ${e.message}`));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`command ${this.name} ${signal ? `killed by ${signal}` : `exited ${code}`}${stderr ? `: ${stderr.trim()}` : ''}`));
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(JSON.stringify(m));
    });
  }
}
