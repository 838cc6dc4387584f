// A standalone Aedes broker (forked by the ingest scenario): the broker of the raw Aedes drain,
// the ceiling Pulse's embedded broker is compared with — the same Aedes 2 as the embedded one.
// Owns only the broker's listener; must not subscribe, count or publish anything itself.
// argv: <tcp port> ; IPC -> ready
import net from 'node:net';
import { Aedes } from 'aedes';
const aedes = await Aedes.createBroker();
const server = net.createServer(aedes.handle);
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.send?.({ type: 'ready' }));
process.on('SIGTERM', () => server.close(() => aedes.close(() => process.exit(0))));
