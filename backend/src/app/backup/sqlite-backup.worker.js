// @ts-check
'use strict';
/*
 * The backup thread (backup.service.ts starts one per backup; decision 0071): a connection of its
 * own to each SQLite file that writes a consistent copy with `VACUUM INTO` (one read
 * transaction: the copy is the file as of one moment, whatever the gateway writes meanwhile,
 * without blocking its writers in WAL mode), off the gateway's event loop. Answers each copy's
 * size, or the error. Plain JavaScript, copied beside the bundle as it is (as the history
 * checkpointer's thread).
 */
const { parentPort, workerData } = require('node:worker_threads');
const { statSync } = require('node:fs');
const BetterSqlite3 = require('better-sqlite3');

const port = parentPort;
if (!port) throw new Error('sqlite-backup.worker must run in a worker thread');

/** @type {{ copies: { from: string; to: string }[] }} */
const { copies } = workerData;
const sizes = [];
for (const { from, to } of copies) {
  const db = new BetterSqlite3(from, { fileMustExist: true, readonly: true, timeout: 5000 });
  try {
    db.prepare('VACUUM INTO ?').run(to);
  } finally {
    db.close();
  }
  sizes.push(statSync(to).size);
}
port.postMessage({ sizes });
