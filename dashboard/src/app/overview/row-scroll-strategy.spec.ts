import type { ListRange } from '@angular/cdk/collections';
import type { CdkVirtualScrollViewport } from '@angular/cdk/scrolling';
import { BUFFER_PX, RowHeightsScrollStrategy, rowOffsets, rowsInView } from './row-scroll-strategy';

describe('rowsInView', () => {
  const offsets = rowOffsets([48, 212, 212, 212, 48, 212, 212]);

  it('adds up the row heights into offsets', () => {
    expect(offsets).toEqual([0, 48, 260, 472, 684, 732, 944, 1156]);
  });

  it('renders the rows that meet the viewport and its buffer', () => {
    expect(rowsInView(offsets, 0, 300, 0)).toEqual({ start: 0, end: 3 });
    expect(rowsInView(offsets, 500, 200, 0)).toEqual({ start: 3, end: 5 });
    expect(rowsInView(offsets, 500, 200, 100)).toEqual({ start: 2, end: 6 });
  });

  it('stops at the last row when scrolled to the end', () => {
    expect(rowsInView(offsets, 1000, 900, 400)).toEqual({ start: 3, end: 7 });
  });

  it('renders a bounded number of rows however long the list', () => {
    const huge = rowOffsets(new Array<number>(100_000).fill(212));
    const range = rowsInView(huge, 5_000_000, 900, 400);
    expect(range.end - range.start).toBeLessThanOrEqual(Math.ceil(1700 / 212) + 1);
    expect(rowsInView(huge, 1e9, 900, 400).end).toBe(100_000);
  });

  it('has nothing to render without rows', () => {
    expect(rowsInView(rowOffsets([]), 0, 900)).toEqual({ start: 0, end: 0 });
  });
});

describe('RowHeightsScrollStrategy', () => {
  /** A viewport 900 px high at the top of 20 rows of 212 px: what the strategy asks it to render. */
  function viewport() {
    const rendered: ListRange[] = [];
    const fake = {
      setTotalContentSize: () => undefined,
      measureScrollOffset: () => 0,
      getViewportSize: () => 900,
      getDataLength: () => 20,
      setRenderedRange: (r: ListRange) => rendered.push(r),
      setRenderedContentOffset: () => undefined,
    };
    return { fake: fake as unknown as CdkVirtualScrollViewport, rendered };
  }

  it('renders the rows in view only until it is given a buffer (the first screen)', () => {
    const strategy = new RowHeightsScrollStrategy(0);
    const { fake, rendered } = viewport();
    strategy.attach(fake);
    strategy.setHeights(new Array<number>(20).fill(212));
    expect(rendered.at(-1)).toEqual({ start: 0, end: 5 }); // 900 px: rows 0–4
    strategy.setBuffer(BUFFER_PX);
    expect(rendered.at(-1)).toEqual({ start: 0, end: 7 }); // 1,300 px: rows 0–6
    const asked = rendered.length;
    strategy.setBuffer(BUFFER_PX); // unchanged: nothing re-rendered
    expect(rendered).toHaveLength(asked);
  });
});
