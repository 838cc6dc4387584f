// The scale-out topologies the `scale-out` scenario compares (decision 0027): one gateway on
// Mosquitto; two gateways sharing Mosquitto through shared subscriptions and Redis, the screens
// split between them; the relay, where gateway B ingests everything and gateway A's screens get
// every reading over Redis (A's own broker carries nothing), the Redis hop on every delivery; and
// the relay with a bystander C (no screens, no ingest) that still reads every message of the one
// readings channel (decision 0027), what each further gateway pays for it.
// Owns which processes each topology starts and where its screens connect; must not drive load
// or measure (the scenario does), and every child it starts is tracked (procs.mjs) and stopped.
import { stopChild } from './procs.mjs';
import { startMosquitto, startPulse, startRedis } from './servers.mjs';

/** Pulse's environment for gateway `id` (`a`, `b`): its own MQTT session and identity. */
const gatewayEnv = (id, redis) => ({
  MQTT_CLIENT_ID: `pulse-bench-${id}`,
  GATEWAY_ID: `bench-${id}`,
  ...(redis ? { REDIS_URL: redis.url } : {}),
});

const startGateway = (broker, ctx, id, redis) =>
  startPulse(broker, { ...ctx, env: { ...ctx.env, ...gatewayEnv(id, redis) } });

/**
 * The topologies by name. Each resolves to `{ gateways, brokers, redis, mqttUrl, screens }`:
 * the gateway targets (A first), every broker child, redis-server's child (or null), the broker
 * the publisher writes to, and `screens(clients)` — how many screens connect to which gateway.
 */
export const TOPOLOGIES = {
  async one(ctx) {
    const broker = await startMosquitto();
    const a = await startGateway(broker, ctx, 'a', null);
    return {
      gateways: [a],
      brokers: [broker.child],
      redis: null,
      mqttUrl: broker.url,
      screens: (n) => [[a, n]],
    };
  },
  async two(ctx) {
    const [broker, redis] = await Promise.all([startMosquitto(), startRedis()]);
    const a = await startGateway(broker, ctx, 'a', redis);
    const b = await startGateway(broker, ctx, 'b', redis);
    return {
      gateways: [a, b],
      brokers: [broker.child],
      redis: redis.child,
      mqttUrl: broker.url,
      // Split as nginx's address hash would on average: half each (A takes the odd one).
      screens: (n) => [
        [a, Math.ceil(n / 2)],
        [b, Math.floor(n / 2)],
      ],
    };
  },
  async relay(ctx) {
    const [broker, idle, redis] = await Promise.all([
      startMosquitto(),
      startMosquitto(),
      startRedis(),
    ]);
    // A hangs off a broker nobody publishes to: it ingests nothing, and everything its screens
    // get was ingested by B and crossed Redis. The idle broker's CPU is counted with the rest.
    const a = await startGateway(idle, ctx, 'a', redis);
    const b = await startGateway(broker, ctx, 'b', redis);
    return {
      gateways: [a, b],
      brokers: [broker.child, idle.child],
      redis: redis.child,
      mqttUrl: broker.url,
      screens: (n) => [[a, n]],
    };
  },
  /** The relay plus gateway C, on the idle broker with no screens: it reads every message on the one channel and needs none. */
  async bystander(ctx) {
    const stack = await TOPOLOGIES.relay(ctx);
    const idleUrl = stack.gateways[0].env.MQTT_URL;
    const redisUrl = stack.gateways[0].env.REDIS_URL;
    const c = await startGateway({ url: idleUrl }, ctx, 'c', { url: redisUrl });
    return { ...stack, gateways: [...stack.gateways, c] };
  },
};

/** Stops a topology's gateways, then its brokers and Redis. */
export async function stopTopology(stack) {
  await Promise.all(stack.gateways.map((g) => stopChild(g.child)));
  await Promise.all([...stack.brokers, stack.redis].filter(Boolean).map(stopChild));
}
