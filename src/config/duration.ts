// Durations in gantry.yaml: a number of milliseconds or a string like "90s", "5m", "2h", "1d".
import { z } from 'zod';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export const durationSchema = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration like "90s", "5m", "2h" or "1d"').transform((s) => {
    const [, n, unit] = /^(\d+)(ms|s|m|h|d)$/.exec(s)!;
    return Number(n) * UNIT_MS[unit!]!;
  }),
]);
