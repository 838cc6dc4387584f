// The Mosquitto peer's client in a load worker: MQTT 3.1.1 over WebSocket by hand (CONNECT,
// SUBSCRIBE devices/+/telemetry QoS 0, PUBLISH parsed minimally; one reading per PUBLISH from
// the bench publisher). Owns that wire protocol; must not decide when to measure or report.
import { WebSocket } from 'ws';
import { scanTs } from '../lib/histogram.mjs';
import { fail, subscribed, tally } from './tally.mjs';

const MQTT_TOPIC = 'devices/+/telemetry';

/** MQTT 3.1.1 over WebSocket: CONNECT (clean, keepalive 0), SUBSCRIBE devices/+/telemetry QoS 0. */
export function mqttWebSocket(c, url) {
  const ws = new WebSocket(url, 'mqtt', { perMessageDeflate: false });
  c.ws = ws;
  let pending = null;
  ws.on('open', () => {
    const id = Buffer.from(`bench-${process.pid}-${c.index}`);
    const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 0]);
    const rest = Buffer.concat([variable, Buffer.from([id.length >> 8, id.length & 255]), id]);
    ws.send(Buffer.concat([Buffer.from([0x10, rest.length]), rest]));
  });
  ws.on('message', (data) => {
    const buf = pending ? Buffer.concat([pending, data]) : data;
    pending = null;
    let pos = 0;
    while (pos + 2 <= buf.length) {
      const type = buf[pos] >> 4;
      let len = 0;
      let mul = 1;
      let i = pos + 1;
      let byte;
      do {
        if (i >= buf.length) break;
        byte = buf[i++];
        len += (byte & 127) * mul;
        mul *= 128;
      } while (byte & 128);
      if (byte & 128 || i + len > buf.length) break; // incomplete packet: wait for more
      const end = i + len;
      if (type === 3 /* PUBLISH */) {
        tally.frames++;
        const qos = (buf[pos] >> 1) & 3;
        const topicLen = (buf[i] << 8) | buf[i + 1];
        const payload = i + 2 + topicLen + (qos ? 2 : 0);
        if (tally.measuring) {
          c.bytes += end - payload;
          // One reading per PUBLISH from the bench publisher: non-probes just count packets.
          c.received += c.probe ? scanTs(buf, payload, end, Date.now(), tally.healthy) : 1;
        }
      } else if (type === 2 /* CONNACK */) {
        const topic = Buffer.from(MQTT_TOPIC);
        const body = Buffer.concat([
          Buffer.from([0, 1, topic.length >> 8, topic.length & 255]),
          topic,
          Buffer.from([0]),
        ]);
        ws.send(Buffer.concat([Buffer.from([0x82, body.length]), body]));
      } else if (type === 9 /* SUBACK */) {
        if (buf[end - 1] === 0x80) fail(c, new Error('SUBACK refused'));
        else subscribed(c);
      }
      pos = end;
    }
    if (pos < buf.length) pending = Buffer.from(buf.subarray(pos));
  });
  ws.on('error', (err) => fail(c, err));
  ws.on('close', () => {
    c.closed = true;
    if (!c.done) fail(c, new Error('closed before SUBACK'));
  });
}
