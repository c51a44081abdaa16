// One short progress line per event worth seeing (stderr while the demo runs); everything else is silent.
import type { GantryEvent } from '../../domain/events.js';

const str = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

export function progressLine(e: Pick<GantryEvent, 'type' | 'payload'>, title: string): string | null {
  const p = e.payload;
  const step = str(p.step);
  const what = ((): string | null => {
    switch (e.type) {
      case 'step.started':
        return Number(p.attempt) > 1 ? `${step} (attempt ${str(p.attempt)})` : step;
      case 'step.progress':
        if (p.phase === 'checked' && p.ok === false) return 'checks red';
        if (p.phase === 'checked' && p.ok === true) return 'checks green';
        if (p.phase === 'fixing') return 'fixer repairs the checks';
        if (p.phase === 'resolving') return 'conflicts with main → resolver';
        return null;
      case 'step.rework':
        return `${step} asked for changes → ${str(p.producer)} again`;
      case 'run.parked':
        return `waits for ${str(p.waiting).replace('_', ' ')} after ${step}`;
      case 'run.answered':
        return `answered: ${str(p.action) || 'ok'}`;
      case 'merge.merged':
        return `merged ${str(p.mergedSha ?? p.sha).slice(0, 10)}`;
      case 'run.done':
        return 'shipped ✓';
      case 'run.failed':
        return `failed at ${step}: ${str(p.kind)} ${str(p.message)}`.trim();
      default:
        return null;
    }
  })();
  return what === null ? null : `  ${title.padEnd(32)} ${what}`;
}
