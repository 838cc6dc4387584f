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
 * Columns and rows for `count` tiles in a `width` × `height` grid with `gap`
 * px between tiles (pure, unit tested): the shape whose tiles are largest,
 * judged by min(width, height × 1.3), fewer empty cells on a tie. A fixed
 * `cols` (URL `cols=`) is kept; rows follow from the count, so every tile is
 * on screen whatever the count (tiles shrink; type shrinks with them).
 *
 * On a phone (a grid under WALL_PHONE_MAX_PX wide, taller than wide) one column (or `cols`),
 * and tiles at least tall enough for their name and `metricRows` metric rows (the most any tile
 * of the board shows); a board taller than the grid scrolls (`scroll`). `metricRows` null: a
 * wall whatever its shape (a paired screen), every tile on screen.
 */
export function wallLayout(
  count: number,
  width: number,
  height: number,
  cols = 0,
  metricRows: number | null = 1,
  gap = 14,
): WallLayout {
  const n = Math.max(1, count);
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
  if (metricRows !== null && width > 0 && width < WALL_PHONE_MAX_PX && height > width) {
    const fit = size(cols > 0 ? Math.min(cols, 12) : 1);
    const least = PHONE_TILE_HEAD_PX + Math.max(1, metricRows) * PHONE_METRIC_ROW_PX;
    return fit.tileHeight >= least ? fit : { ...fit, tileHeight: least, scroll: true };
  }
  if (cols > 0) return size(Math.min(cols, 12));
  if (!(width > 0) || !(height > 0))
    return { ...size(Math.min(n, 4)), tileWidth: 0, tileHeight: 0 };
  let best = size(1);
  let bestScore = -1;
  for (let c = 1; c <= Math.min(n, 12); c++) {
    const l = size(c);
    const score = Math.min(l.tileWidth, l.tileHeight * TILE_ASPECT);
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
 * Characters of a wall tile's name that fit beside its group label, for a middle ellipsis that
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
  const group = groupChars > 0 ? groupChars * 0.55 * groupFont + 10 : 0;
  return Math.max(8, Math.floor((width - padding - group) / (0.6 * nameFont)));
}
