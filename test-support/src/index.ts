/**
 * @pulse/test-support: the helpers every project's tests share (polling, ports, live clients,
 * MQTT clients and brokers, Pulse's built programs as processes). Tests only: production code
 * may not import it (enforced in eslint.config.mjs), and it depends on no project of ours but
 * the contract library.
 */
export * from './lib/wait';
export * from './lib/net';
export * from './lib/http';
export * from './lib/live-client';
export * from './lib/mqtt-client';
export * from './lib/embedded-broker';
export * from './lib/mosquitto';
export * from './lib/mosquitto-sub';
export * from './lib/processes';
export * from './lib/tls';
export * from './lib/postgres';
export * from './lib/redis';
export * from './lib/nginx';
