// A task may ask for lightweight provisioning (no setup commands, no dependency cache) at submit;
// NULL leaves it to the project's `workspace.lightweight`.
export const name = 'task_lightweight';
export const sql = `
ALTER TABLE tasks ADD COLUMN lightweight INTEGER;
`;
