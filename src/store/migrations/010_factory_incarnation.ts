// A factory announces each start of its process as a new incarnation (a random id in its heartbeat);
// the coordinator keeps the current one, so a restart reclaims the previous process's leases at once.
export const name = 'factory_incarnation';
export const sql = `
ALTER TABLE factories ADD COLUMN incarnation TEXT;
`;
