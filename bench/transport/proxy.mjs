#!/usr/bin/env node
// A loopback HTTP proxy that stands between Chromium and the gateway and does to WebSocket
// upgrades what real middleboxes do: every plain HTTP request (the dashboard, /api, socket.io
// long-polling) goes through untouched, Host and Origin included, and each upgrade request is,
// by the current mode:
//   pass    forwarded, both ways piped (a working WebSocket)
//   close   its TCP connection closed at once, nothing answered (a proxy that drops upgrades)
//   hang    accepted and never answered (a proxy that holds the request until it times out)
//   silent  answered `101 Switching Protocols` with a valid accept key, then never a frame
// The mode can change between page loads (`setMode`). Owns its sockets and closes them all on
// `close()`; must not start the gateway, open the browser nor measure anything.
//
// As a command (the dashboard's e2e test runs it as a child):
//   node bench/transport/proxy.mjs --target http://127.0.0.1:3000 --mode close [--port 0]
// prints `proxy listening <port> mode <mode>` once it accepts connections; SIGTERM ends it.
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export const PROXY_MODES = ['pass', 'close', 'hang', 'silent'];

/** The upgrade request as it came, to replay it to the gateway. */
function rawHead(req) {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** RFC 6455 §4.2.2: the accept key a browser checks before it calls the WebSocket open. */
const acceptKey = (key) =>
  crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');

/**
 * Starts the proxy on 127.0.0.1 in front of `target` (`http://host:port`). Resolves with its
 * `url`, `setMode(mode)`, the upgrade requests it saw per mode (`upgrades`) and `close()`.
 */
export async function startProxy({ target, mode = 'pass', port = 0 }) {
  if (!PROXY_MODES.includes(mode)) throw new Error(`unknown proxy mode ${JSON.stringify(mode)}`);
  const to = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const sockets = new Set();
  const upgrades = Object.fromEntries(PROXY_MODES.map((m) => [m, 0]));
  let current = mode;

  const server = http.createServer((req, res) => {
    const upstream = http.request(
      {
        host: to.hostname,
        port: to.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    // A long-poll the browser abandons (navigation, reload) ends the gateway's side too.
    res.on('close', () => res.writableFinished || upstream.destroy());
    req.pipe(upstream);
  });
  // Long-polls are held open by the gateway for its ping interval (25 s): no proxy timeouts.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 60_000;

  const track = (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  server.on('connection', track);

  server.on('upgrade', (req, socket, head) => {
    upgrades[current]++;
    if (current === 'close') return void socket.destroy();
    if (current === 'hang') return; // kept in `sockets` until the browser or close() ends it
    if (current === 'silent') {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptKey(req.headers['sec-websocket-key'] ?? '')}\r\n\r\n`,
      );
      socket.resume(); // read and dropped: the client's frames go nowhere
      return;
    }
    const upstream = net.connect({ host: to.hostname, port: Number(to.port) }, () => {
      upstream.write(rawHead(req));
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    track(upstream);
    upstream.on('close', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actualPort = server.address().port;
  return {
    port: actualPort,
    url: `http://127.0.0.1:${actualPort}`,
    upgrades,
    mode: () => current,
    setMode(next) {
      if (!PROXY_MODES.includes(next)) throw new Error(`unknown proxy mode ${next}`);
      current = next;
    },
    async close() {
      for (const s of sockets) s.destroy();
      agent.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function cli(argv) {
  const arg = (name, fallback) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
  };
  const target = arg('target');
  if (!target) throw new Error('--target http://host:port is required');
  const proxy = await startProxy({
    target,
    mode: arg('mode', 'pass'),
    port: Number(arg('port', '0')),
  });
  console.log(`proxy listening ${proxy.port} mode ${proxy.mode()}`);
  const stop = () => proxy.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  cli(process.argv.slice(2)).catch((error) => {
    console.error(`proxy: ${error.message}`);
    process.exit(1);
  });
