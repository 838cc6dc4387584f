// A process that opens a SQLite file as a gateway does and applies a few migrations with the
// gateway's runner (database-migrations.spec starts two at once on one file).
import BetterSqlite3 from 'better-sqlite3';
import { applyMigrations, enableWal } from '../../src/app/store/database';

// Both children open the file at the same moment, as two gateways started together do: each
// tells the spec once it has loaded, and the spec sends both the moment (ms since the epoch).
process.once('message', (at: number) => {
  while (Date.now() < at) {
    /* wait */
  }
  const db = new BetterSqlite3(process.argv[2]);
  db.pragma('busy_timeout = 5000');
  enableWal(db);
  applyMigrations(
    db,
    Array.from({ length: 8 }, (_, i) => ({
      id: `m${i}`,
      sql: `CREATE TABLE t${i} (a INTEGER); CREATE INDEX i${i} ON t${i} (a)`,
    })),
  );
  db.close();
  process.disconnect();
});
process.send?.('loaded');
