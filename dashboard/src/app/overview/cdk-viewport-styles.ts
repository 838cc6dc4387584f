/*
 * Moved to core/render/cdk-viewport-styles.ts (the alerts page needs it too, and alerts must not
 * import overview/). Kept so the overview's imports stay as they are; import the core file.
 */
import '../core/render/cdk-viewport-styles';
export { viewportInjectsStyles } from '../core/render/cdk-viewport-styles';
