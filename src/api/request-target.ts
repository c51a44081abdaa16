// The request target (path and query) checked once, before routing: malformed percent-encoding,
// invalid UTF-8 and control characters (NUL above all: PostgreSQL text and process arguments
// cannot hold it) are a 400 here, never a 500 deeper down. Pure.
export type RequestTarget =
  | { ok: true; pathname: string; query: URLSearchParams }
  | { ok: false; message: string };

const CONTROL = /[\u0000-\u001f\u007f]/;
const BAD_ESCAPE = /%(?![0-9a-fA-F]{2})/;

export function parseRequestTarget(raw: string | undefined): RequestTarget {
  let target = raw ?? '/';
  // Absolute-form (`GET http://host/path`) is allowed by HTTP/1.1; only its path and query matter.
  if (/^https?:\/\//i.test(target)) {
    try {
      const u = new URL(target);
      target = `${u.pathname}${u.search}`;
    } catch {
      return { ok: false, message: 'malformed request target' };
    }
  }
  if (!target.startsWith('/')) return { ok: false, message: 'the request target must be a path starting with /' };
  const q = target.indexOf('?');
  const pathname = q < 0 ? target : target.slice(0, q);
  const search = q < 0 ? '' : target.slice(q + 1);
  if (BAD_ESCAPE.test(pathname)) return { ok: false, message: 'malformed percent-encoding in the path' };
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { ok: false, message: 'the path is not valid UTF-8 once decoded' };
  }
  if (CONTROL.test(decoded)) return { ok: false, message: 'the path contains a control character' };
  if (BAD_ESCAPE.test(search)) return { ok: false, message: 'malformed percent-encoding in the query' };
  const query = new URLSearchParams(search);
  for (const [k, v] of query) {
    if (CONTROL.test(k) || CONTROL.test(v)) return { ok: false, message: `query parameter ${JSON.stringify(k.slice(0, 40))} contains a control character` };
  }
  return { ok: true, pathname, query };
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a string cannot be stored as text (a NUL, or a lone UTF-16 surrogate that is no character), or null. */
function badText(s: string): string | null {
  if (s.includes('\u0000')) return 'contains a NUL byte';
  if (LONE_SURROGATE.test(s)) return 'is not well-formed Unicode (a lone surrogate)';
  return null;
}

/** The first string (value or key) inside a JSON value that cannot be stored as text, with its field path (`body.paths[0]`). */
export function findBadText(value: unknown, path = 'body', depth = 0): { field: string; why: string } | null {
  if (typeof value === 'string') {
    const why = badText(value);
    return why ? { field: path, why } : null;
  }
  if (depth > 64 || value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = findBadText(value[i], `${path}[${i}]`, depth + 1);
      if (p) return p;
    }
    return null;
  }
  for (const [k, v] of Object.entries(value)) {
    const why = badText(k);
    if (why) return { field: `${path}.${JSON.stringify(k).slice(1, -1)}`, why: `has a key that ${why}` };
    const p = findBadText(v, `${path}.${k}`, depth + 1);
    if (p) return p;
  }
  return null;
}
