import { isValidId } from '@pulse/protocol/core';

/**
 * Wall mode (`/wall`) is configured entirely by URL query parameters, so a
 * kiosk browser can be pointed at one URL and left alone:
 *
 * | param     | example              | meaning                                                                 | default |
 * |-----------|----------------------|-------------------------------------------------------------------------|---------|
 * | `devices` | `devices=a,b,c`      | devices to show (one board)                                             | all     |
 * | `boards`  | `boards=a,b;c,d`     | several boards (`;` between boards, `,` between devices); rotates       | –       |
 * | `group`   | `group=hall-a`       | only devices of this group (when no devices/boards are given)           | –       |
 * | `metrics` | `metrics=temp,power` | metrics to show per device                                              | all     |
 * | `window`  | `window=5m`          | chart window: `90s`, `5m`, `1h` (a bare number is seconds), 10 s … 1 h  | `5m`    |
 * | `cols`    | `cols=4`             | grid columns (1…12); auto-fit when absent                               | auto    |
 * | `size`    | `size=12`            | tiles per board when devices come from the fleet or a group (paging)    | all     |
 * | `rotate`  | `rotate=30`          | seconds between boards (0 = no rotation)                                | `0`     |
 * | `stale`   | `stale=10`           | seconds of silence before a device is STALE (at least 3× its cadence)   | `10`    |
 * | `theme`   | `theme=dark`         | `dark` (high contrast) or `light`                                       | `dark`  |
 * | `view`    | `view=heatmap`       | `tiles` (boards of tiles) or `heatmap` (one cell per device, no charts) | `tiles` |
 * | `metric`  | `metric=temperature` | heat map only: colour cells by this metric against its alert thresholds | status  |
 * | `fold`    | `fold=120`           | seconds a loud alert banner covers the top before it folds into the header; `never` | `60` |
 *
 * The heat map shows the fleet, the `group`, or the devices of `devices`/`boards` (all at once);
 * it honours `stale` and `theme` and ignores `size`, `rotate`, `window`, `cols` and `metrics`.
 *
 * Invalid values never break the wall: they fall back to the default and are
 * listed in small type at the bottom of the screen.
 *
 * This module owns the parameters (parsing, defaults, paging and rotation arithmetic) and is
 * pure; it must not read the router or the clock (the wall page passes the query and `now`).
 */
export interface WallConfig {
  /** Explicit boards (device ids per board); empty = derive from the fleet / group. */
  boards: string[][];
  group: string | null;
  /** Metric names to show; empty = all. */
  metrics: string[];
  windowMs: number;
  /** 0 = auto-fit. */
  cols: number;
  /** Tiles per auto-paged board; 0 = everything on one board. */
  size: number;
  /** 0 = no rotation. */
  rotateMs: number;
  staleMs: number;
  theme: 'dark' | 'light';
  /** `tiles`: boards of device tiles; `heatmap`: one cell per device on one screen. */
  view: WallView;
  /** Heat map: colour by this metric's latest value against its thresholds; null = by status. */
  metric: string | null;
  /** A loud alert banner folds into the header after this long on the wall; null = never. */
  foldMs: number | null;
  /** Human-readable problems with the parameters. */
  errors: string[];
}

export const WALL_VIEWS = ['tiles', 'heatmap'] as const;
export type WallView = (typeof WALL_VIEWS)[number];

export const WALL_DEFAULTS: Omit<WallConfig, 'errors'> = {
  boards: [],
  group: null,
  metrics: [],
  windowMs: 5 * 60_000,
  cols: 0,
  size: 0,
  rotateMs: 0,
  staleMs: 10_000,
  theme: 'dark',
  view: 'tiles',
  metric: null,
  foldMs: 60_000,
};

const MIN_WINDOW_MS = 10_000;
const MAX_WINDOW_MS = 60 * 60_000;

/** `90s`, `5m`, `1h`, `300` (seconds) → ms; null if not a duration. */
export function parseDuration(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?$/i.exec(text.trim());
  if (!match) return null;
  const n = Number(match[1]);
  const unit = (match[2] ?? 's').toLowerCase();
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'h' ? 3_600_000 : 60_000;
  const ms = Math.round(n * factor);
  return Number.isFinite(ms) ? ms : null;
}

function idList(raw: string, name: string, errors: string[]): string[] {
  const out: string[] = [];
  for (const part of raw.split(',')) {
    const id: string = part.trim();
    if (!id) continue;
    if (!isValidId(id)) errors.push(`${name}: "${part.trim().slice(0, 40)}" is not a valid id`);
    else if (!out.includes(id)) out.push(id);
  }
  return out;
}

function intParam(
  raw: string | null,
  name: string,
  min: number,
  max: number,
  errors: string[],
): number | null {
  if (raw === null || raw.trim() === '') return null;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    errors.push(`${name}: "${raw.slice(0, 20)}" must be a whole number from ${min} to ${max}`);
    return null;
  }
  return n;
}

type ParamSource = Pick<URLSearchParams, 'get'>;

/** Parse wall parameters (never throws). Accepts `URLSearchParams` or Angular's `ParamMap`. */
export function parseWallParams(params: ParamSource): WallConfig {
  const errors: string[] = [];
  const config: WallConfig = { ...WALL_DEFAULTS, boards: [], metrics: [], errors };

  const boards = params.get('boards');
  const devices = params.get('devices');
  if (boards) {
    config.boards = boards
      .split(';')
      .map((board) => idList(board, 'boards', errors))
      .filter((board) => board.length > 0);
  }
  if (devices) {
    const list = idList(devices, 'devices', errors);
    if (config.boards.length) errors.push('devices: ignored because boards is set');
    else if (list.length) config.boards = [list];
  }

  const group = params.get('group');
  if (group) {
    const id = group.trim();
    if (isValidId(id)) config.group = id;
    else errors.push(`group: "${group.slice(0, 40)}" is not a valid id`);
  }

  const metrics = params.get('metrics');
  if (metrics) config.metrics = idList(metrics, 'metrics', errors);

  const window = params.get('window');
  if (window) {
    const ms = parseDuration(window);
    if (ms === null || ms < MIN_WINDOW_MS || ms > MAX_WINDOW_MS)
      errors.push(`window: "${window.slice(0, 20)}" must be 10s to 1h, e.g. 5m`);
    else config.windowMs = ms;
  }

  config.cols = intParam(params.get('cols'), 'cols', 1, 12, errors) ?? WALL_DEFAULTS.cols;
  config.size = intParam(params.get('size'), 'size', 1, 500, errors) ?? WALL_DEFAULTS.size;
  const rotate = intParam(params.get('rotate'), 'rotate', 0, 86_400, errors);
  if (rotate !== null) config.rotateMs = rotate * 1000;
  const stale = intParam(params.get('stale'), 'stale', 1, 86_400, errors);
  if (stale !== null) config.staleMs = stale * 1000;

  const fold = params.get('fold');
  if (fold) {
    const seconds = fold.trim() === 'never' ? null : /^\d+$/.test(fold.trim()) ? Number(fold) : NaN;
    if (seconds === null) config.foldMs = null;
    else if (Number.isInteger(seconds) && seconds >= 1 && seconds <= 86_400)
      config.foldMs = seconds * 1000;
    else
      errors.push(`fold: "${fold.slice(0, 20)}" must be a whole number from 1 to 86400, or never`);
  }

  const theme = params.get('theme');
  if (theme) {
    if (theme === 'dark' || theme === 'light') config.theme = theme;
    else errors.push(`theme: "${theme.slice(0, 20)}" must be dark or light`);
  }

  const view = params.get('view');
  if (view) {
    const known = WALL_VIEWS.find((v) => v === view.trim());
    if (known) config.view = known;
    else errors.push(`view: "${view.slice(0, 20)}" must be tiles or heatmap`);
  }
  const metric = params.get('metric');
  if (metric) {
    const id = metric.trim();
    if (!isValidId(id)) errors.push(`metric: "${metric.slice(0, 40)}" is not a valid metric name`);
    else if (config.view !== 'heatmap') errors.push('metric: only used by view=heatmap');
    else config.metric = id;
  }
  return config;
}

/** Which board is on screen at `now`: derived from the clock, so every wall with the same URL shows the same board. */
export function boardIndex(boardCount: number, rotateMs: number, now: number): number {
  if (boardCount <= 1 || rotateMs <= 0) return 0;
  return Math.floor(now / rotateMs) % boardCount;
}

/** Split a device list into boards of `size` (0 = one board). */
export function pageBoards(deviceIds: string[], size: number): string[][] {
  if (size <= 0 || deviceIds.length <= size) return deviceIds.length ? [deviceIds] : [];
  const boards: string[][] = [];
  for (let i = 0; i < deviceIds.length; i += size) boards.push(deviceIds.slice(i, i + size));
  return boards;
}

/** How long before a rotation the next board is subscribed, so it opens with its history. */
export const PRESUBSCRIBE_MS = 5_000;

/**
 * The boards whose devices the wall holds data for at `now`: the one on screen, and the next
 * one during the last `leadMs` before it rotates in (at most half the rotation period, so a
 * fast rotation does not hold every board).
 */
export function boardsToWatch(
  boardCount: number,
  rotateMs: number,
  now: number,
  leadMs = PRESUBSCRIBE_MS,
): number[] {
  const current = boardIndex(boardCount, rotateMs, now);
  if (boardCount <= 1 || rotateMs <= 0) return boardCount ? [current] : [];
  const untilNext = rotateMs - (now % rotateMs);
  return untilNext <= Math.min(leadMs, rotateMs / 2)
    ? [current, (current + 1) % boardCount]
    : [current];
}
