// One mqtt.js subscriber on devices/+/telemetry (forked by run.mjs). Two jobs:
//  - `parse`: the raw drain of the ingest-ceiling target — JSON.parse every payload and
//    count readings; what the broker + one mqtt.js client can move with no gateway at all;
//  - `count`: the tap — counts readings the broker carried (the denominator of delivered %).
// Owns subscribing and counting; must not publish or judge what it counted.
// argv: <mqtt url> <parse|count> ; IPC <- count ; -> count {readings, messages, at}
import mqtt from 'mqtt';

const [url, mode = 'count'] = process.argv.slice(2);
let readings = 0;
let messages = 0;
const client = mqtt.connect(url, { clientId: `bench-${mode}-${process.pid}`, reconnectPeriod: 0 });
client.on('connect', async () => {
  await client.subscribeAsync('devices/+/telemetry', { qos: 0 });
  process.send?.({ type: 'ready' });
});
client.on('error', (err) => {
  console.error(`drain: ${err.message}`);
  process.exit(1);
});
client.on('message', (_topic, payload) => {
  messages++;
  if (mode === 'parse') {
    const body = JSON.parse(payload.toString());
    readings += Array.isArray(body) ? body.length : 1;
  } else if (payload[0] === 0x5b) {
    readings += JSON.parse(payload.toString()).length;
  } else readings++;
});
process.on('message', (msg) => {
  if (msg?.type === 'count') process.send({ type: 'count', readings, messages, at: Date.now() });
});
