// The New task form as pure functions: what the form's text fields become in POST /api/tasks, and
// which field an API validation error is about. The API is the only validator, so the form shows
// exactly its messages.

export interface NewTaskForm {
  title: string;
  body: string;
  project: string;
  /** '' = the project's default. */
  pipeline: string;
  /** '' = the project's default. */
  agent: string;
  /** As typed; '' = 0. */
  priority: string;
  /** Task ids, separated by commas or spaces. */
  after: string;
  /** Capabilities, separated by commas or spaces. */
  capabilities: string;
}

export type FormField = keyof NewTaskForm;

export const EMPTY_FORM: NewTaskForm = { title: '', body: '', project: '', pipeline: '', agent: '', priority: '', after: '', capabilities: '' };

const list = (s: string): string[] => s.split(/[\s,]+/).filter(Boolean);

/** The request body. Values are passed on as typed (a priority of "high" is sent as text) so the API's message is the one shown. */
export function submitBody(f: NewTaskForm): Record<string, unknown> {
  const priority = f.priority.trim();
  const n = Number(priority);
  return {
    title: f.title,
    body: f.body,
    project: f.project,
    ...(f.pipeline ? { pipeline: f.pipeline } : {}),
    ...(f.agent ? { agent: f.agent } : {}),
    ...(priority ? { priority: priority !== '' && Number.isFinite(n) ? n : priority } : {}),
    ...(list(f.after).length ? { after: list(f.after) } : {}),
    ...(list(f.capabilities).length ? { capabilities: list(f.capabilities) } : {}),
  };
}

const FIELDS: readonly FormField[] = ['title', 'body', 'project', 'pipeline', 'agent', 'priority', 'after', 'capabilities'];

/** `body.title`, `body.after[0]`, `body.body`, `pipeline` → the form field; null when the error names none of them. */
export function fieldOfError(field: string | null): FormField | null {
  if (!field) return null;
  const parts = field.split(/[.[\]]/).filter(Boolean);
  if (parts[0] === 'body' && parts.length === 1) return null; // the request body as a whole
  const name = parts[0] === 'body' ? parts[1]! : parts[0]!;
  return (FIELDS as readonly string[]).includes(name) ? (name as FormField) : null;
}
