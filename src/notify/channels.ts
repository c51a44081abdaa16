// Channel registry: one factory per `type` in gantry.yaml's notifications.channels. A new kind of
// channel is one file plus one entry here.
import type { ChannelConfig, NotificationsConfig } from '../config/notifications.js';
import type { NotificationChannel } from '../ports/lifecycle.js';
import { CommandChannel } from './command.js';
import { DesktopChannel } from './desktop.js';
import { WebhookChannel } from './webhook.js';

type Factory<K extends ChannelConfig['type']> = (name: string, cfg: Extract<ChannelConfig, { type: K }>, env: NodeJS.ProcessEnv) => NotificationChannel;

const REGISTRY: { [K in ChannelConfig['type']]: Factory<K> } = {
  desktop: (name) => new DesktopChannel(name),
  webhook: (name, c, env) => new WebhookChannel(name, { url: c.url, secret: c.secret ?? (c.secretEnv ? env[c.secretEnv] ?? null : null), timeoutMs: c.timeout }),
  command: (name, c) => new CommandChannel(name, { command: c.command, timeoutMs: c.timeout }),
};

export function buildChannels(cfg: NotificationsConfig | undefined, env: NodeJS.ProcessEnv = process.env): NotificationChannel[] {
  return Object.entries(cfg?.channels ?? {}).map(([name, c]) => (REGISTRY[c.type] as Factory<typeof c.type>)(name, c as never, env));
}
