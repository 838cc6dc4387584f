import { WALL_TILE_MIN_PX, wallColsFor, wallLayout, wallNameChars } from './wall-layout';

describe('wallLayout', () => {
  it('fits 24 tiles on a 1080p wall with tiles as large as possible', () => {
    const l = wallLayout(24, 1892, 980);
    expect(l.cols * l.rows).toBeGreaterThanOrEqual(24);
    expect([l.cols, l.rows]).toEqual([6, 4]);
    expect(l.tileWidth).toBeGreaterThan(290);
    expect(l.tileHeight).toBeGreaterThan(220);
  });

  it('uses one column for one tile and a wide shape for a few', () => {
    expect(wallLayout(1, 1892, 980)).toMatchObject({ cols: 1, rows: 1 });
    expect(wallLayout(4, 1892, 980)).toMatchObject({ cols: 2, rows: 2 });
  });

  it('keeps a fixed column count and derives the rows', () => {
    expect(wallLayout(24, 1892, 980, 6)).toMatchObject({ cols: 6, rows: 4 });
    expect(wallLayout(5, 1892, 980, 3)).toMatchObject({ cols: 3, rows: 2 });
  });

  it('never puts a tile off screen', () => {
    for (const n of [2, 7, 13, 24, 40, 60]) {
      const l = wallLayout(n, 1280, 700);
      expect(l.cols * l.rows).toBeGreaterThanOrEqual(n);
      expect(l.tileHeight * l.rows).toBeLessThanOrEqual(700);
    }
  });

  it('has a sensible shape before the grid is measured', () => {
    expect(wallLayout(24, 0, 0)).toMatchObject({ cols: 4, rows: 6, tileWidth: 0 });
  });

  it('puts one tall tile per row on an upright phone and scrolls the board', () => {
    // A 390×844 phone's grid (the header and padding off): 12 devices of up to 4 metrics.
    const l = wallLayout(12, 362, 730, 0, 4);
    expect(l).toMatchObject({ cols: 1, rows: 12, tileWidth: 362, scroll: true });
    // Tall enough for the name and four metric rows, not 1/12 of the screen.
    expect(l.tileHeight).toBeGreaterThanOrEqual(300);
    // Fewer metrics, shorter tiles.
    expect(wallLayout(12, 362, 730, 0, 2).tileHeight).toBeLessThan(l.tileHeight);
  });

  it('fills an upright phone without scrolling when the tiles fit', () => {
    expect(wallLayout(2, 362, 730, 0, 4)).toMatchObject({
      cols: 1,
      rows: 2,
      tileHeight: 358,
      scroll: false,
    });
  });

  it('keeps every tile on an upright paired screen as narrow as a phone', () => {
    // A portrait 1080p panel at a device pixel ratio of 2: 540×960 CSS px.
    const l = wallLayout(12, 512, 900, 0, 4, { paired: true });
    expect(l.scroll).toBe(false);
    expect(l.tileHeight * l.rows).toBeLessThanOrEqual(900);
  });

  it("weighs a paired screen's metric rows as a browser's: a phone on its side paired as a wall", () => {
    // 27 tiles of 4 metrics at 844×390: 9 × 3 as in a browser, not 7 × 4 with rows of 6 px.
    const side = wallLayout(27, 816, 300, 0, 4, { paired: true });
    expect([side.cols, side.rows, side.scroll]).toEqual([9, 3, false]);
    expect(wallLayout(27, 816, 300, 0, 4)).toMatchObject({ cols: 9, rows: 3 });
  });

  it("keeps a phone's cols= and scrolls the rows", () => {
    expect(wallLayout(12, 362, 730, 2, 4)).toMatchObject({ cols: 2, rows: 6, scroll: true });
  });

  it('lowers a cols= to the tiles of WALL_TILE_MIN_PX the width holds, on a phone or a wall', () => {
    // cols=4 on a 390 px phone: 80 px tiles would cut their values; two columns of 174 px.
    expect(wallLayout(6, 362, 730, 4, 3)).toMatchObject({ cols: 2, rows: 3 });
    expect(wallColsFor(362)).toBe(2);
    expect(wallColsFor(3 * WALL_TILE_MIN_PX + 2 * 14)).toBe(3);
    // cols=12 on a 1280 px screen: 9 columns of 128 px; on 1920 px all 12 (146 px).
    expect(wallLayout(24, 1252, 650, 12)).toMatchObject({ cols: 9, rows: 3 });
    expect(wallLayout(24, 1892, 980, 12)).toMatchObject({ cols: 12, rows: 2 });
    // Never under one column, and whatever it asks before the grid is measured.
    expect(wallColsFor(90)).toBe(1);
    expect(wallLayout(24, 0, 0, 8)).toMatchObject({ cols: 8 });
    // Auto-fit is not held to it: 27 tiles on a phone on its side stay on screen.
    const side = wallLayout(27, 816, 290, 0, 4);
    expect(side.cols * side.rows).toBeGreaterThanOrEqual(27);
    expect(side.tileHeight * side.rows).toBeLessThanOrEqual(290);
  });

  it("weighs the height of a tile's metric rows: none a few px tall while a shape has them taller", () => {
    // 27 tiles of 4 metrics on a phone on its side (844×390): 9 × 3, not 7 × 4 (rows of 3 px).
    const side = wallLayout(27, 816, 300, 0, 4);
    expect([side.cols, side.rows]).toEqual([9, 3]);
    expect((side.tileHeight - 40) / 4).toBeGreaterThan(12);
    // One metric a tile: the wider shape, as before.
    expect(wallLayout(27, 816, 300, 0, 1)).toMatchObject({ cols: 7, rows: 4 });
    // Walls of large tiles keep their shape (1920×1080: 24 in 6 × 4).
    expect(wallLayout(24, 1892, 980, 0, 4)).toMatchObject({ cols: 6, rows: 4 });
  });

  it('keeps every tile on screen on walls, tablets and a phone on its side', () => {
    for (const [width, height] of [
      [1892, 980], // 1920×1080
      [3812, 2060], // 3840×2160
      [740, 950], // a tablet upright
      [996, 700], // a tablet on its side
      [816, 290], // a phone on its side
      [600, 900], // the narrowest tablet
    ])
      for (const n of [1, 6, 12, 24]) {
        const l = wallLayout(n, width, height, 0, 4);
        expect(l.scroll).toBe(false);
        expect(l.cols * l.rows).toBeGreaterThanOrEqual(n);
        expect(l.tileHeight * l.rows).toBeLessThanOrEqual(height);
      }
    // The wall's own choice, as before phones had one (Chromium, 1920×1080: 13 tiles in 5 × 3).
    expect(wallLayout(13, 1892, 985, 0, 4)).toMatchObject({ cols: 5, rows: 3, scroll: false });
  });
});

describe('wallNameChars', () => {
  it("keeps simulator names' distinguishing end on a 1920 px wall of 24 and whole on one of 4", () => {
    const name = 'Power meter 004 · Hall A';
    // 1920 × 1000 of grid, 24 tiles in 6 × 4: ~300 px tiles with a group label 'hall-a'.
    const small = wallNameChars(1920, 1000, 6, 4, 'hall-a'.length);
    expect(small).toBeGreaterThanOrEqual(12);
    expect(small).toBeLessThan(name.length);
    // 4 tiles in 2 × 2: the whole name fits.
    expect(wallNameChars(1920, 1000, 2, 2, 'hall-a'.length)).toBeGreaterThanOrEqual(name.length);
    // Before the grid is measured: a generous default, CSS guards the rest.
    expect(wallNameChars(0, 0, 1, 1, 0)).toBe(24);
  });

  it('gives a tile of WALL_GROUP_MIN_TILE_PX or less its whole line (no group label there)', () => {
    // 9 × 3 tiles of ~80 px on a phone on its side: the group label's room goes to the name.
    expect(wallNameChars(844, 300, 9, 3, 'hall-a'.length)).toBe(wallNameChars(844, 300, 9, 3, 0));
    // A 300 px tile keeps the label beside its name.
    expect(wallNameChars(1920, 1000, 6, 4, 'hall-a'.length)).toBeLessThan(
      wallNameChars(1920, 1000, 6, 4, 0),
    );
  });
});
