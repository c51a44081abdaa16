// Where the token lives in the browser: localStorage, seeded once from a `#token=` login link
// (a fragment never reaches the server, so the token stays out of request logs).
const KEY = 'gantry.token';

export function takeTokenFromLocation(): void {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m) return;
  localStorage.setItem(KEY, decodeURIComponent(m[1]!));
  history.replaceState(null, '', location.pathname + location.search);
}

export const readToken = (): string | null => localStorage.getItem(KEY);
export const saveToken = (t: string): void => localStorage.setItem(KEY, t);
export const clearToken = (): void => localStorage.removeItem(KEY);
