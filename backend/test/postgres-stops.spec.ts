import { PostgresCluster, postgresAvailable, startPostgres } from '@pulse/test-support';
import { openPgPool } from '../src/app/store/pg-pool';

// Real: the gateway's own pool (store/pg-pool.ts) on a private PostgreSQL cluster, stopped while a
// connection is checked out and busy, as a database goes down under a history write. Before, the
// connection's 'error' event had no listener and Jest reported "Unhandled error" (a gateway
// process ended).
(postgresAvailable() ? describe : describe.skip)('PostgreSQL stopping under a query', () => {
  let cluster: PostgresCluster;

  beforeAll(async () => {
    cluster = await startPostgres();
  }, 60_000);

  afterAll(() => cluster?.stop());

  it('fails the query of a connection in use, and nothing else', async () => {
    const pool = openPgPool(cluster.url, 2);
    const client = await pool.connect();
    try {
      const sleeping = client.query('SELECT pg_sleep(30)');
      const idle = await pool.connect(); // a second one, held idle between queries
      await idle.query('SELECT 1');
      await cluster.stop();
      await expect(sleeping).rejects.toThrow(/terminat/i);
      await expect(idle.query('SELECT 1')).rejects.toThrow();
      idle.release(true);
      // The pool reconnects for the next query; with nothing listening there, it fails plainly.
      await expect(pool.query('SELECT 1')).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      client.release(true);
      await pool.end();
    }
  });
});
