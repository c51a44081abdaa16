// A project is a git remote (DESIGN §9): the URL (or local path, treated exactly like a remote) each
// factory mirrors and lands on. NULL (projects registered before) means the project's path.
export const name = 'project_remote';
export const sql = `
ALTER TABLE projects ADD COLUMN remote TEXT;
`;
