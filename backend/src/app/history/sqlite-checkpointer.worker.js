// @ts-check
'use strict';
/*
 * The history file's checkpointer thread (sqlite-checkpointer.ts starts it; decision 0040): a
 * connection of its own that copies the WAL's committed pages into the file every `everyMs`,
 * PASSIVE (it never waits for, nor blocks, the writer or a reader). Owns nothing but that loop:
 * the schema, the writes and the backstop checkpoint stay with the store. Plain JavaScript,
 * copied beside the bundle as it is: a thread this small should not pay for a TypeScript loader
 * under jest, where every store opened in a test starts one.
 */
const { parentPort, workerData } = require('node:worker_threads');
const BetterSqlite3 = require('better-sqlite3');

const port = parentPort;
if (!port) throw new Error('sqlite-checkpointer.worker must run in a worker thread');

const { file, everyMs } = workerData;
const db = new BetterSqlite3(file, { fileMustExist: true });
// A pass that finds another checkpoint running (the writer's backstop, `size()`) answers
// busy and copies nothing: the next one does. A real failure (I/O error, disk full) throws and
// ends the thread, and the store logs it once.
const timer = setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), everyMs);

port.on('message', (message) => {
  if (message?.op !== 'stop') return;
  clearInterval(timer);
  db.close();
  port.close();
});
