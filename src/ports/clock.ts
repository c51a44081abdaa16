// Injected time and identity, so deciders and loops stay deterministic in tests.
export interface Clock {
  now(): number;
}
export interface Sleep {
  (ms: number, signal?: AbortSignal): Promise<void>;
}
export interface Ids {
  next(prefix: string): string;
}
