/** Where a session's hooks post; `base` is the coordinator URL. Served by src/api/routes/agent-hooks.ts. */
export const hookUrl = (base: string, sessionId: string): string => `${base.replace(/\/$/, '')}/api/agent-hooks/${encodeURIComponent(sessionId)}`;
