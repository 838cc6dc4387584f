import { CdkVirtualScrollViewport } from '@angular/cdk/scrolling';

/*
 * The one place that reaches into the CDK viewport's component definition. Pulse runs under
 * `style-src 'self'` (backend/src/app/security/http-hardening.ts): Angular would inject the
 * viewport's structural CSS as a <style> element, which that policy refuses (and every browser
 * test fails on). The same rules live in styles.css (section "Virtual scroll viewport"), served
 * from 'self'; here the component's copy is dropped before the first viewport renders (every page with
 * a viewport imports this file: the overview, the alerts page). Recheck both on a CDK upgrade.
 * Owns nothing else.
 */
const def = (CdkVirtualScrollViewport as unknown as { ɵcmp?: { styles: string[] } }).ɵcmp;
if (def) def.styles = [];

/** Whether the CDK viewport still carries styles of its own (a test checks the drop took). */
export function viewportInjectsStyles(): boolean {
  return (def?.styles.length ?? 0) > 0;
}
