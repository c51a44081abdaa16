// One line per event, shared by the dashboard timeline and `gantry logs`. Payloads never carry
// bodies or tokens, so everything here is safe to show; unknown types fall back to their most
// telling fields. Pure: no I/O, no clock.
import type { GantryEvent } from './events.js';

const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null);

export type EventTone = 'info' | 'good' | 'warn' | 'bad';

export function eventTone(type: string): EventTone {
  if (/(failed|rejected|dead|stale|violation|quarantined|lost|error|reclaimed)/.test(type)) return 'bad';
  if (/(parked|escalated|needs_input|refused|drain|cancel)/.test(type)) return 'warn';
  if (/(shipped|merged|done|approved|created|provisioned|unblocked|registered)/.test(type)) return 'good';
  return 'info';
}

/** A short human summary of an event's payload. */
export function summarize(e: GantryEvent): string {
  const p = e.payload ?? {};
  const parts: string[] = [];
  const from = str(p.from);
  const to = str(p.to) ?? str(p.stage);
  if (from && to) parts.push(`${from} → ${to}`);
  else if (to) parts.push(to);
  for (const k of ['step', 'waiting', 'outcome', 'reason', 'action', 'kind', 'agent', 'state', 'display', 'label', 'name', 'role']) {
    const v = str(p[k]);
    if (v && !parts.includes(v)) parts.push(k === 'step' ? `step ${v}` : v);
  }
  const epoch = str(p.epoch ?? p.leaseEpoch);
  if (epoch) parts.push(`epoch ${epoch}`);
  const factory = str(p.factoryId);
  if (factory) parts.push(`on ${factory}`);
  if (typeof p.score === 'number') parts.push(`score ${p.score.toFixed(2)}`);
  if (typeof p.seq === 'number' && e.type.startsWith('checkpoint')) parts.push(`#${p.seq}`);
  if (Array.isArray(p.after) && p.after.length) parts.push(`after ${p.after.join(', ')}`);
  const msg = str(p.message) ?? str(p.text) ?? str(p.summary) ?? str(p.error);
  if (msg) parts.push(msg.length > 160 ? `${msg.slice(0, 160)}…` : msg);
  return parts.join(' · ');
}
