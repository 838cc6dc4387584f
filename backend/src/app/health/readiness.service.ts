import { Injectable, OnApplicationShutdown, Logger } from '@nestjs/common';
import { RateLimitedLog } from '../common/rate-limited-log';

/**
 * The readiness registry behind `/api/ready` (docs/decisions/0028-logs-and-readiness.md): each
 * dependency a gateway cannot serve without (broker, stores, Redis) registers one named check,
 * and the gateway is ready when every check passes within CHECK_TIMEOUT_MS. A feature adds its
 * dependency with one line at construction:
 *
 *     readiness.register('redis', () => this.redis.ping());
 *
 * Owns the registry and the run (timeouts, the failure log); must not know any dependency: the
 * checks live with what they check (health/built-in-checks.ts for broker and stores).
 */

/**
 * Resolves (or returns) when the dependency is reachable; throws, rejects or returns `false`
 * when it is not. Called on every `/api/ready` request: keep it to one round trip.
 */
export type ReadinessCheck = () => unknown;

export type CheckStatus = 'ok' | 'failed';

export interface ReadinessReport {
  ready: boolean;
  /** Every registered check by name, in registration order. */
  checks: Record<string, CheckStatus>;
}

/** Longest one check may take before it counts as failed (a probe's own timeout is longer). */
export const CHECK_TIMEOUT_MS = 2000;

@Injectable()
export class ReadinessChecks implements OnApplicationShutdown {
  private readonly logger = new Logger('Readiness');
  /** The reason stays in the log, never in the public response; once per check per 10 s. */
  private readonly failures = new RateLimitedLog((line) => this.logger.warn(line));
  private readonly checks = new Map<string, ReadinessCheck>();

  register(name: string, check: ReadinessCheck): void {
    if (this.checks.has(name)) throw new Error(`readiness check "${name}" is registered twice`);
    this.checks.set(name, check);
  }

  async run(timeoutMs = CHECK_TIMEOUT_MS): Promise<ReadinessReport> {
    const entries = [...this.checks];
    const results = await Promise.all(
      entries.map(([name, check]) => this.runOne(name, check, timeoutMs)),
    );
    const checks: Record<string, CheckStatus> = {};
    entries.forEach(([name], i) => (checks[name] = results[i]));
    return { ready: results.every((status) => status === 'ok'), checks };
  }

  private async runOne(
    name: string,
    check: ReadinessCheck,
    timeoutMs: number,
  ): Promise<CheckStatus> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const result = await Promise.race([Promise.resolve().then(check), timeout]);
      if (result === false) throw new Error('not reachable');
      return 'ok';
    } catch (error) {
      this.failures.report(
        name,
        `not ready: ${name}: ${(error as Error).message ?? String(error)}`,
      );
      return 'failed';
    } finally {
      clearTimeout(timer);
    }
  }

  /** The gateway stops: check failures held back are written now, with no timer left after it. */
  onApplicationShutdown(): void {
    this.failures.close();
  }
}
