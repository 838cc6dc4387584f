import { RateLimitedLog } from '../../src/app/common/rate-limited-log';

/*
 * Run before every backend spec file (jest.config.cts `setupFilesAfterEnv`). A spec that makes a
 * service by hand, without the application's lifecycle, never shuts it down, and a rate-limited
 * log it reported to kept its summary timer: the "+N more" line came 10 s later, into whatever
 * spec file this Jest worker ran next (CI failed on such a line in logging.spec, which checks
 * every line its gateway writes). Every log reported to in this file is closed after it: its
 * held-back counts are written then, in this file's output, and no timer is left.
 */
const reported = new Set<RateLimitedLog>();
const report = RateLimitedLog.prototype.report;
RateLimitedLog.prototype.report = function (this: RateLimitedLog, key: string, message: string) {
  reported.add(this);
  report.call(this, key, message);
};

afterAll(() => {
  for (const log of reported) log.close();
  reported.clear();
});
