/**
 * Put in by the build (backend/webpack.config.js, DefinePlugin) and by the backend's tests
 * (jest.config.cts, a Jest global): the root package.json's version. A build constant rather
 * than a JSON import, which would put the whole package.json in the bundle (and the workspace's
 * module boundaries keep files outside the project out of its imports).
 */
declare const PULSE_BUILD_VERSION: string | undefined;

/**
 * The version of Pulse this gateway runs: `/api/health`, `/api/stats` and `pulse_build_info` in
 * `/api/metrics` name it, so an operator tells during a rolling upgrade which gateway runs which
 * build. Fixed when the gateway is built: nothing of it comes from the environment or argv.
 * `unknown` when run some other way (neither the build nor the tests put it in).
 */
export const PULSE_VERSION: string =
  typeof PULSE_BUILD_VERSION === 'string' ? PULSE_BUILD_VERSION : 'unknown';
