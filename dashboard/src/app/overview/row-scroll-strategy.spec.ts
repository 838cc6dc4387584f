import { rowOffsets, rowsInView } from './row-scroll-strategy';

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
