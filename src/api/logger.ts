// A structured logger port for the server. Callers pass only fields that are safe to log:
// never prompts, bodies or tokens (DESIGN §5 inv. 9).
export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export function jsonLogger(write: (line: string) => void, level: 'info' | 'warn' | 'error' = 'info'): Logger {
  const rank = { info: 0, warn: 1, error: 2 } as const;
  const emit = (l: keyof typeof rank) => (msg: string, fields: Record<string, unknown> = {}) => {
    if (rank[l] >= rank[level]) write(`${JSON.stringify({ t: new Date().toISOString(), level: l, msg, ...fields })}\n`);
  };
  return { info: emit('info'), warn: emit('warn'), error: emit('error') };
}
