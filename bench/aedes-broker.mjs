// A standalone Aedes broker (forked by the ingest scenario): the broker of the raw Aedes drain,
// the ceiling Pulse's embedded broker is compared with. Owns only the broker's listener; must not
// subscribe, count or publish anything itself.
// argv: <tcp port> ; IPC -> ready
import net from 'node:net';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const aedes = require('aedes')();
const server = net.createServer(aedes.handle);
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.send?.({ type: 'ready' }));
process.on('SIGTERM', () => server.close(() => aedes.close(() => process.exit(0))));
