// Human-readable times and sizes.
export function ago(at: number | null | undefined, now = Date.now()): string {
  if (!at) return '—';
  return `${duration(Math.max(0, now - at))} ago`;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d`;
}

export const clock = (at: number): string => new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

export const stageLabel = (s: string): string => s.replace('_', ' ');

/** "$0.12", "$0.0042" (small amounts keep four places), "$12.30". */
export function money(usd: number): string {
  return usd !== 0 && Math.abs(usd) < 0.1 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}
