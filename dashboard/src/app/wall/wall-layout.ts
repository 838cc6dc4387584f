/*
 * How a wall board's tiles fit the screen: columns, rows and tile size for a tile count. Pure
 * (unit tested); it must not measure the DOM or read the URL: the wall page passes in the grid
 * size and the `cols` parameter.
 */

/** Grid shape of a wall board. */
export interface WallLayout {
  cols: number;
  rows: number;
  /** Tile size in px (0 before the grid has been measured). */
  tileWidth: number;
  tileHeight: number;
  /**
   * The board is taller than the grid (a phone, WALL_PHONE_MAX_PX): rows are `tileHeight` px and
   * the grid scrolls vertically, instead of every tile squeezed on screen.
   */
  scroll: boolean;
}

/** Tiles are read best a bit wider than tall (name on top, metric rows below). */
const TILE_ASPECT = 1.3;
/**
 * Auto-fit also weighs the height of a tile's metric rows (its height less about 40 px of name
 * line, padding and borders, shared by `metricRows`), 8× over: a shape of wider tiles whose rows
 * are a few px tall (27 tiles of 4 metrics on a phone on its side: 7 × 4 tiles of 105 × 64 px,
 * rows of 3 px, every value drawn over the next) loses to one of narrower tiles whose rows hold
 * their line (9 × 3 of 78 × 91 px). Never binding on a wall of large tiles (1920 × 1080, 24
 * tiles: rows of 48 px weigh 388 against tiles 304 px wide).
 */
const TILE_HEAD_PX = 40;
const METRIC_ROW_WEIGHT = 8;

/**
 * A grid narrower than this (CSS px) and taller than wide is a phone held upright, not a wall
 * screen: its board is one tile per row (unless `cols=` says otherwise), each tile tall enough
 * to read, and it scrolls. Phones are 320–480 px wide upright; the smallest tablets 600 and
 * more, and a phone on its side is wider than tall: both stay walls, every tile on screen.
 */
export const WALL_PHONE_MAX_PX = 600;
/**
 * A phone tile's least height: its name line, padding and borders, and a row per metric, each
 * tall enough for the metric's name above its value (styles.css `.wall-metric`: a row under
 * 34 px puts them on one line in smaller type).
 */
const PHONE_TILE_HEAD_PX = 64;
const PHONE_METRIC_ROW_PX = 68;
/**
 * The narrowest tile a `cols=` may ask for (CSS px). A narrower tile shows its values in type
 * sized to its width (styles.css, `@container wall-tile`), under 14 px below this, and its name
 * down to a few characters: a wall link made for a TV, opened on a phone (`cols=4` at 390 px,
 * 80 px tiles), gets the columns its width holds instead, and the wall says so. Auto-fit is not
 * held to it: every tile of a board stays on screen, in smaller type.
 */
export const WALL_TILE_MIN_PX = 120;

/** The most columns of WALL_TILE_MIN_PX tiles `width` holds (12 before the grid is measured). */
export function wallColsFor(width: number, gap = 14): number {
  if (!(width > 0)) return 12;
  return Math.max(1, Math.min(12, Math.floor((width + gap) / (WALL_TILE_MIN_PX + gap))));
}

/**
 * Columns and rows for `count` tiles in a `width` × `height` grid with `gap`
 * px between tiles (pure, unit tested): the shape whose tiles are largest,
 * judged by min(width, height × 1.3, its metric rows' height × 8 (METRIC_ROW_WEIGHT)), fewer
 * empty cells on a tie. A fixed
 * `cols` (URL `cols=`) is kept where the width holds that many tiles of WALL_TILE_MIN_PX
 * (wallColsFor; fewer otherwise); rows follow from the count, so every tile is on screen
 * whatever the count (tiles shrink; type shrinks with them).
 *
 * `metricRows`: the most metric rows any tile of the board shows. On a phone (a grid under
 * WALL_PHONE_MAX_PX wide, taller than wide) one column (or `cols`), and tiles at least tall
 * enough for their name and their metric rows; a board taller than the grid scrolls (`scroll`).
 * `paired`: a paired screen is a wall whatever its shape, every tile on screen, never a phone's
 * scrolling board; its auto-fit weighs the metric rows all the same (a phone or a small panel
 * on its side paired as a wall had rows a few px tall when it did not).
 */
export function wallLayout(
  count: number,
  width: number,
  height: number,
  cols = 0,
  metricRows = 1,
  { paired = false, gap = 14 }: { paired?: boolean; gap?: number } = {},
): WallLayout {
  const n = Math.max(1, count);
  const asked = cols > 0 ? Math.min(cols, wallColsFor(width, gap)) : 0;
  const size = (c: number): WallLayout => {
    const rows = Math.ceil(n / c);
    return {
      cols: c,
      rows,
      tileWidth: Math.max(0, (width - gap * (c - 1)) / c),
      tileHeight: Math.max(0, (height - gap * (rows - 1)) / rows),
      scroll: false,
    };
  };
  if (!paired && width > 0 && width < WALL_PHONE_MAX_PX && height > width) {
    const fit = size(asked > 0 ? asked : 1);
    const least = PHONE_TILE_HEAD_PX + Math.max(1, metricRows) * PHONE_METRIC_ROW_PX;
    return fit.tileHeight >= least ? fit : { ...fit, tileHeight: least, scroll: true };
  }
  if (asked > 0) return size(asked);
  if (!(width > 0) || !(height > 0))
    return { ...size(Math.min(n, 4)), tileWidth: 0, tileHeight: 0 };
  let best = size(1);
  let bestScore = -1;
  for (let c = 1; c <= Math.min(n, 12); c++) {
    const l = size(c);
    const rowsHeight =
      (METRIC_ROW_WEIGHT * (l.tileHeight - TILE_HEAD_PX)) / Math.max(1, metricRows);
    const score = Math.min(l.tileWidth, l.tileHeight * TILE_ASPECT, rowsHeight);
    const empty = l.cols * l.rows - n;
    if (
      score > bestScore + 0.5 ||
      (Math.abs(score - bestScore) <= 0.5 && empty < best.cols * best.rows - n)
    ) {
      best = l;
      bestScore = score;
    }
  }
  return best;
}

/**
 * A tile this narrow or narrower (CSS px) shows no group label (styles.css, `@container wall-tile`):
 * beside it a name had 16 px left on a phone on its side ("003…" of "Env…003 · Office" cut to
 * "0…"); the name, the device's distinguishing end, comes first.
 */
export const WALL_GROUP_MIN_TILE_PX = 140;

/**
 * Characters of a wall tile's name that fit beside its group label (none under
 * WALL_GROUP_MIN_TILE_PX), for a middle ellipsis that
 * keeps the name's distinguishing end ("Power m…004 · Hall A", not "Power meter 00…" on every
 * tile of a board). From the grid's size and layout and the tile's CSS (styles.css: the grid's
 * 14 px gaps and padding; the name at clamp(14px, min(7.5cqw, 11cqh), 40px), the group at
 * clamp(11px, min(4cqw, 6cqh), 22px), 10 px apart; the tile's side padding clamp(8px, 4cqw,
 * 16px)), at 0.6 em a character for the bold name and 0.55 em for the group: an estimate, CSS
 * `text-overflow` still guards a wider name.
 */
export function wallNameChars(
  gridWidth: number,
  gridHeight: number,
  cols: number,
  rows: number,
  groupChars: number,
): number {
  const gap = 14;
  const width = (gridWidth - gap * (cols + 1)) / Math.max(1, cols);
  const height = (gridHeight - gap * (rows + 1)) / Math.max(1, rows);
  if (width <= 0 || height <= 0) return 24;
  const clamp = (lo: number, v: number, hi: number) => Math.min(hi, Math.max(lo, v));
  const nameFont = clamp(14, Math.min(0.075 * width, 0.11 * height), 40);
  const groupFont = clamp(11, Math.min(0.04 * width, 0.06 * height), 22);
  const padding = 2 * clamp(8, 0.04 * width, 16) + 6; // both sides and the 3 px borders
  const group =
    groupChars > 0 && width > WALL_GROUP_MIN_TILE_PX ? groupChars * 0.55 * groupFont + 10 : 0;
  return Math.max(8, Math.floor((width - padding - group) / (0.6 * nameFont)));
}
