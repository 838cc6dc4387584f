// A standalone Aedes broker, used by the benchmark only when Mosquitto is not installed.
import net from 'node:net';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const aedes = require('aedes')();
const server = net.createServer(aedes.handle);
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.send?.({ type: 'ready' }));
process.on('SIGTERM', () => server.close(() => aedes.close(() => process.exit(0))));
