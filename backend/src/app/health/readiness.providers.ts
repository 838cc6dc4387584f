import type { Provider } from '@nestjs/common';
import { BuiltInReadinessChecks } from './built-in-checks';
import { ReadinessChecks } from './readiness.service';

/** The readiness feature's providers; app.module.ts spreads this list. */
export const READINESS_PROVIDERS: Provider[] = [ReadinessChecks, BuiltInReadinessChecks];
