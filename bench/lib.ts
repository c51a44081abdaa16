// Shared benchmark helpers: timing, and tables of ratios against a raw baseline.
export async function opsPerSec(n: number, op: (i: number) => Promise<unknown>, concurrency = 1): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) await op(i);
    }),
  );
  return (n / (performance.now() - t0)) * 1000;
}

/**
 * Measures two operations in alternating rounds so both see the same machine conditions
 * (a shared, noisy host drifts between back-to-back phases). Returns ops/s for each.
 */
export async function pairedOpsPerSec(
  n: number,
  a: (i: number) => Promise<unknown>,
  b: (i: number) => Promise<unknown>,
  opts: { concurrency?: number; rounds?: number } = {},
): Promise<[number, number]> {
  const rounds = opts.rounds ?? 10;
  const per = Math.max(1, Math.floor(n / rounds));
  let ta = 0;
  let tb = 0;
  const timed = async (op: (i: number) => Promise<unknown>, base: number): Promise<number> => {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: opts.concurrency ?? 1 }, async () => {
        for (let i = next++; i < per; i = next++) await op(base + i);
      }),
    );
    return performance.now() - t0;
  };
  for (let r = 0; r < rounds; r++) {
    ta += await timed(a, r * per);
    tb += await timed(b, r * per);
  }
  return [((per * rounds) / ta) * 1000, ((per * rounds) / tb) * 1000];
}

export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  console.log(`\n${title}`);
  for (const [j, r] of cells.entries()) {
    console.log(r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  '));
    if (j === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

const fmt = (n: number): string => (n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(2) : n.toFixed(3));

export const ratio = (x: number, base: number): string => `${(x / base).toFixed(2)}×`;

export const pgUrl = (): string | undefined => process.env.GANTRY_TEST_DATABASE_URL || process.env.GANTRY_BENCH_DATABASE_URL;
