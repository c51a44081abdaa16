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
