import type { Drawable } from '../core/render/frame-scheduler.service';
import { HEAT_COLORS, HeatLayout, HeatState, cellAt, cellLabel, heatLayout } from './heat-map';

/*
 * Drawing the heat map: one canvas, one fillRect and at most two short labels per cell, drawn
 * in the frame scheduler's loop only when a cell changed (then only the changed cells; all of
 * them after a resize or a new device list), plus the hover title. Owns the canvas's pixels and
 * its draw timings (data-draw-ms etc. on the element, read by the browser test and the decision
 * record); it must not read the stores (the component hands it the cells).
 */

/** What each cell shows, index-aligned with `ids`. */
export interface HeatCells {
  ids: readonly string[];
  states: readonly HeatState[];
  /** Second line (the metric's value) or ''. */
  values: readonly string[];
}

/** Labels below this size are unreadable: the cell is colour only (the title still names it). */
const MIN_FONT_PX = 9;
const MAX_FONT_PX = 22;
/** Average advance of a digit or lower-case letter in the label font, in ems. */
const CHAR_EM = 0.6;
const DARK_TEXT_ON: ReadonlySet<HeatState> = new Set(['warning', 'minor']);

export class HeatCanvas implements Drawable {
  private cells: HeatCells = { ids: [], states: [], values: [] };
  /** What each cell shows on the canvas now (null: draw everything). */
  private drawnStates: HeatState[] | null = null;
  private drawnValues: string[] = [];
  private width = 0;
  private height = 0;
  private layout: HeatLayout | null = null;
  private dirty = true;
  private readonly ctx: CanvasRenderingContext2D | null;
  private draws = 0;
  private maxDrawMs = 0;
  private readonly onMove = (event: MouseEvent) => this.hover(event);

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly describe: (deviceId: string) => string,
  ) {
    this.ctx = canvas.getContext('2d');
    canvas.addEventListener('mousemove', this.onMove);
  }

  /** New cells; true when something to draw changed. A new id list redraws every cell. */
  setCells(cells: HeatCells): boolean {
    if (cells.ids !== this.cells.ids) this.drawnStates = null;
    this.cells = cells;
    this.dirty = true;
    return true;
  }

  /** The canvas's CSS size; true when it changed (every cell is then redrawn). */
  resize(width: number, height: number): boolean {
    if (width === this.width && height === this.height) return false;
    this.width = width;
    this.height = height;
    this.drawnStates = null;
    this.dirty = true;
    return true;
  }

  frame(): void {
    if (!this.dirty || !this.ctx || !(this.width > 0) || !(this.height > 0)) return;
    this.dirty = false;
    const started = performance.now();
    const painted = this.draw(this.ctx);
    if (painted === 0) return;
    const ms = performance.now() - started;
    this.draws++;
    this.maxDrawMs = Math.max(this.maxDrawMs, ms);
    const el = this.canvas;
    el.setAttribute('data-draws', String(this.draws));
    el.setAttribute('data-draw-ms', ms.toFixed(2));
    el.setAttribute('data-draw-max-ms', this.maxDrawMs.toFixed(2));
    el.setAttribute('data-painted', String(painted));
    el.setAttribute('data-cols', String(this.layout?.cols ?? 0));
    el.setAttribute('data-cell-width', String(this.layout?.cellWidth ?? 0));
    el.setAttribute('data-cell-height', String(this.layout?.cellHeight ?? 0));
    el.setAttribute('data-gap', String(this.layout?.gap ?? 0));
  }

  detach(): void {
    this.canvas.removeEventListener('mousemove', this.onMove);
  }

  /** Paint the cells that changed (all after a resize or a new list); returns how many. */
  private draw(ctx: CanvasRenderingContext2D): number {
    const { ids, states, values } = this.cells;
    const full = this.drawnStates === null || this.drawnStates.length !== ids.length;
    if (full) {
      const dpr = globalThis.devicePixelRatio || 1;
      this.canvas.width = Math.round(this.width * dpr);
      this.canvas.height = Math.round(this.height * dpr);
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, this.width, this.height);
      this.layout = heatLayout(ids.length, this.width, this.height);
      this.drawnStates = new Array(ids.length);
      this.drawnValues = new Array(ids.length);
    }
    const layout = this.layout as HeatLayout;
    const drawn = this.drawnStates as HeatState[];
    const { cols, cellWidth: w, cellHeight: h, gap } = layout;
    const font = Math.min(MAX_FONT_PX, Math.floor(Math.min(h * 0.34, w * 0.3)));
    const maxChars = font >= MIN_FONT_PX ? Math.floor((w - 4) / (font * CHAR_EM)) : 0;
    const twoLines = h >= font * 2.6;
    ctx.font = `600 ${font}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    let painted = 0;
    for (let i = 0; i < ids.length; i++) {
      const state = states[i];
      const value = values[i];
      if (drawn[i] === state && this.drawnValues[i] === value) continue;
      drawn[i] = state;
      this.drawnValues[i] = value;
      painted++;
      const x = (i % cols) * (w + gap);
      const y = Math.floor(i / cols) * (h + gap);
      ctx.fillStyle = HEAT_COLORS[state];
      ctx.fillRect(x, y, w, h);
      if (maxChars <= 0) continue;
      ctx.fillStyle = DARK_TEXT_ON.has(state) ? '#111827' : '#f9fafb';
      const label = cellLabel(ids[i], maxChars);
      if (value && twoLines) {
        ctx.fillText(label, x + w / 2, y + h / 2 - font * 0.6, w - 4);
        ctx.fillText(value.slice(0, maxChars), x + w / 2, y + h / 2 + font * 0.6, w - 4);
      } else {
        ctx.fillText(value && !twoLines ? value.slice(0, maxChars) : label, x + w / 2, y + h / 2);
      }
    }
    return painted;
  }

  private hover(event: MouseEvent): void {
    if (!this.layout) return;
    const rect = this.canvas.getBoundingClientRect();
    const index = cellAt(
      this.layout,
      this.cells.ids.length,
      event.clientX - rect.left,
      event.clientY - rect.top,
    );
    const id = index >= 0 ? this.cells.ids[index] : null;
    this.canvas.title = id ? this.describe(id) : '';
    if (id) this.canvas.setAttribute('data-hover-id', id);
    else this.canvas.removeAttribute('data-hover-id');
  }
}
