// The migration lineage, in order. Append only: never edit a migration that has shipped.
import * as m001 from './001_initial.js';
import * as m002 from './002_fleet.js';
import * as m005 from './005_lifecycle.js';
import * as m006 from './006_engine.js';
import * as m007 from './007_claim.js';
import * as m008 from './008_task_lightweight.js';
import * as m009 from './009_project_remote.js';
import * as m010 from './010_factory_incarnation.js';
import * as m011 from './011_fleet_write_cost.js';
import * as m012 from './012_fleet_statements.js';
import * as m013 from './013_release_one_statement.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** PostgreSQL-only statements (functions), each run whole after `sql`. */
  postgres?: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, ...m001 }, { version: 2, ...m002 }, { version: 5, ...m005 }, { version: 6, ...m006 },
  { version: 7, ...m007 }, { version: 8, ...m008 }, { version: 9, ...m009 }, { version: 10, ...m010 },
  { version: 11, ...m011 }, { version: 12, ...m012 }, { version: 13, ...m013 },
];
