// Notification deciders: when a raised notification escalates, and which channels hear it.
import type { Priority } from './reactions.js';

export type NotificationState = 'raised' | 'escalated' | 'acknowledged' | 'resolved';

export const NOTIFICATION_TRANSITIONS: Record<NotificationState, readonly NotificationState[]> = {
  raised: ['acknowledged', 'resolved', 'escalated'],
  escalated: ['acknowledged', 'resolved'],
  acknowledged: ['resolved'],
  resolved: [],
};

export const canMove = (from: NotificationState, to: NotificationState): boolean => NOTIFICATION_TRANSITIONS[from].includes(to);

/** A notification nobody acknowledged in time escalates exactly once. */
export const shouldEscalate = (n: { state: NotificationState; createdAt: number; escalatedAt: number | null }, now: number, afterMs: number | null): boolean =>
  afterMs !== null && n.state === 'raised' && n.escalatedAt === null && now - n.createdAt >= afterMs;

const ORDER: readonly Priority[] = ['low', 'normal', 'high', 'urgent'];
export const bump = (p: Priority): Priority => ORDER[Math.min(ORDER.indexOf(p) + 1, ORDER.length - 1)]!;

export type Routing = Partial<Record<Priority, readonly string[]>>;

/** Channels for a priority (an escalation is routed one priority up). Unknown names are dropped. */
export function route(priority: Priority, escalation: boolean, routing: Routing, known: ReadonlySet<string>): string[] {
  const p = escalation ? bump(priority) : priority;
  return [...new Set(routing[p] ?? [])].filter((c) => known.has(c));
}
