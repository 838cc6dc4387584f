import { ListRange } from '@angular/cdk/collections';
import { CdkVirtualScrollViewport, VirtualScrollStrategy } from '@angular/cdk/scrolling';
import { Subject, distinctUntilChanged } from 'rxjs';

/*
 * A CDK virtual scroll strategy for rows of known, unequal heights (tile rows and the shorter
 * group headings of the overview). CDK ships only a fixed-size strategy (autosize is in
 * cdk-experimental); this one takes the heights from the page and renders the rows that meet the
 * viewport plus a buffer. Owns the rendered range only; the rows themselves are the page's.
 */

/** Extra pixels rendered above and below the viewport, so a fast scroll does not show blanks. */
export const BUFFER_PX = 400;

/** Running offsets: `offsets[i]` is where row `i` starts, `offsets[n]` the total height. */
export function rowOffsets(heights: readonly number[]): number[] {
  const offsets = new Array<number>(heights.length + 1);
  offsets[0] = 0;
  for (let i = 0; i < heights.length; i++) offsets[i + 1] = offsets[i] + heights[i];
  return offsets;
}

/** The first row whose bottom is below `px` (binary search over `offsets`). */
function rowAt(offsets: readonly number[], px: number): number {
  let lo = 0;
  let hi = offsets.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsets[mid + 1] <= px) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The rows that meet [scrollTop − buffer, scrollTop + height + buffer). */
export function rowsInView(
  offsets: readonly number[],
  scrollTop: number,
  height: number,
  bufferPx = BUFFER_PX,
): ListRange {
  const count = offsets.length - 1;
  if (count <= 0) return { start: 0, end: 0 };
  const start = rowAt(offsets, Math.max(0, scrollTop - bufferPx));
  const end = Math.min(count, rowAt(offsets, scrollTop + height + bufferPx) + 1);
  return { start: Math.min(start, end), end };
}

export class RowHeightsScrollStrategy implements VirtualScrollStrategy {
  private readonly index = new Subject<number>();
  readonly scrolledIndexChange = this.index.pipe(distinctUntilChanged());
  private viewport: CdkVirtualScrollViewport | null = null;
  private offsets: number[] = [0];

  /** `bufferPx`: rendered beyond the viewport each way (see {@link setBuffer}). */
  constructor(private bufferPx = BUFFER_PX) {}

  /**
   * Render `px` beyond the viewport each way from now on. The overview starts at 0, so its first
   * screen creates only the tiles a person sees, and widens it once that screen is live.
   */
  setBuffer(px: number): void {
    if (px === this.bufferPx) return;
    this.bufferPx = px;
    this.update();
  }

  /** New rows: call with their heights whenever the rows change. */
  setHeights(heights: readonly number[]): void {
    this.offsets = rowOffsets(heights);
    this.update();
  }

  attach(viewport: CdkVirtualScrollViewport): void {
    this.viewport = viewport;
    this.update();
  }

  detach(): void {
    this.index.complete();
    this.viewport = null;
  }

  onContentScrolled(): void {
    this.update();
  }

  onDataLengthChanged(): void {
    this.update();
  }

  onContentRendered(): void {
    /* heights are known up front: nothing to measure */
  }

  onRenderedOffsetChanged(): void {
    /* the offset is ours */
  }

  scrollToIndex(index: number, behavior: ScrollBehavior): void {
    const at = this.offsets[Math.max(0, Math.min(index, this.offsets.length - 1))];
    this.viewport?.scrollToOffset(at, behavior);
  }

  private update(): void {
    const viewport = this.viewport;
    if (!viewport) return;
    viewport.setTotalContentSize(this.offsets[this.offsets.length - 1]);
    const offsets = this.offsets;
    const scrollTop = viewport.measureScrollOffset();
    const range = rowsInView(offsets, scrollTop, viewport.getViewportSize(), this.bufferPx);
    // The rows may not have reached the viewport yet: never render past what it holds.
    const end = Math.min(range.end, viewport.getDataLength());
    viewport.setRenderedRange({ start: Math.min(range.start, end), end });
    viewport.setRenderedContentOffset(offsets[Math.min(range.start, end)] ?? 0);
    this.index.next(rowAt(offsets, scrollTop));
  }
}
