// The migration lineage, in order. Append only: never edit a migration that has shipped.
import * as m001 from './001_initial.js';
import * as m002 from './002_fleet.js';
import * as m005 from './005_lifecycle.js';
import * as m006 from './006_engine.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [{ version: 1, ...m001 }, { version: 2, ...m002 }, { version: 5, ...m005 }, { version: 6, ...m006 }];
