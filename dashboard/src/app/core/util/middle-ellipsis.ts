/*
 * Shortening device names and ids without losing the part that tells them apart. A fleet's names
 * share their beginning ("Env sensor 0041 · Hall A", "Env sensor 0042 · Hall A"), so cutting the
 * end (CSS `text-overflow`) leaves a column of identical "Env sensor 00…". Pure; owns no state.
 */

const ELLIPSIS = '…';
/** Characters of the beginning kept at least, so the kind of device stays recognisable. */
const MIN_HEAD = 3;

/**
 * `text` whole if it has at most `max` characters, else its beginning, "…" and its end, `max`
 * characters at most. The end kept starts at a word when one fits: the last word with a digit in
 * it (the number that tells devices apart) and all after it; when only that word fits, it is kept
 * and the words after it are cut too ("Env se…0042…"); else the longest run of whole trailing
 * words; a single long word (an id) is cut in the middle, keeping a bit more of its end.
 */
export function middleEllipsis(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return ELLIPSIS.slice(0, Math.max(0, max));
  const budget = max - 1;
  const room = budget - Math.min(MIN_HEAD, budget - 1);
  const starts = wordStarts(text);
  const fits = (s: number) => text.length - s <= room;
  const number = lastNumbered(text, starts);
  if (number > 0 && !fits(number)) {
    // The words after the number do not fit beside it: keep the number, cut on both sides.
    const word = text.slice(number, nextStart(starts, number, text)).trimEnd();
    if (word.length <= room - 1) {
      const head = text.slice(0, budget - 1 - word.length).trimEnd();
      return `${head}${ELLIPSIS}${word}${ELLIPSIS}`;
    }
  }
  let tailStart = number > 0 && fits(number) ? number : -1;
  if (tailStart < 0) tailStart = starts.find(fits) ?? -1;
  if (tailStart <= 0) tailStart = text.length - Math.ceil(budget * 0.6);
  const tail = text.slice(tailStart);
  const head = text.slice(0, budget - tail.length).trimEnd();
  return `${head}${ELLIPSIS}${tail}`;
}

/** Indexes where a word starts (after a space), the first word excluded. */
function wordStarts(text: string): number[] {
  const starts: number[] = [];
  for (let i = 1; i < text.length; i++) if (text[i - 1] === ' ' && text[i] !== ' ') starts.push(i);
  return starts;
}

/** Where the last word with a digit in it starts (the first word excluded), or -1. */
function lastNumbered(text: string, starts: readonly number[]): number {
  for (let i = starts.length - 1; i >= 0; i--)
    if (/\d/.test(text.slice(starts[i], nextStart(starts, starts[i], text)))) return starts[i];
  return -1;
}

function nextStart(starts: readonly number[], s: number, text: string): number {
  return starts.find((n) => n > s) ?? text.length;
}

/**
 * Characters of a tile's name line that fit in `tileWidthPx` beside its padding and health badge
 * (about 85 px), at 9 px a character: the tile's bold 15 px type averages about 8.5 px on
 * simulator names in Chromium. An estimate: CSS `text-overflow` still guards a
 * wider name (an alert badge beside it, wide letters).
 */
export function nameCharsFor(tileWidthPx: number): number {
  return Math.max(12, Math.floor((tileWidthPx - 85) / 9));
}

/**
 * Characters of the name line left beside an alert badge showing `label` ("major", "critical ×3"):
 * the pill's 11 px bold capitals take about 8 px a character plus 14 px of padding and the 8 px
 * gap, counted in the name's 9 px characters. Without it the name was shortened for the whole
 * line and CSS cut it again at the end, losing the number the middle ellipsis had kept ("Machin…01…").
 * Never below 8: the number stays readable (CSS still guards the rest).
 */
export function nameCharsBeside(nameChars: number, label: string | null): number {
  if (!label) return nameChars;
  return Math.max(8, nameChars - Math.ceil((label.length * 8 + 22) / 9));
}

/** A shortened name in two parts: `head`, which CSS may cut further, and `tail`, which it keeps. */
export interface NameParts {
  head: string;
  tail: string;
}

/**
 * `shortened` (middleEllipsis's answer) split so that CSS, when the estimate of what fits was
 * too generous (wide letters, a badge beside), cuts the beginning and not the part that tells
 * devices apart: the tail starts after the first "…" (CSS's own ellipsis then replaces the cut
 * beginning with that one, so there is one), else at the last word with a digit in it, else at
 * the last word. A single word has no tail: it is cut at its end, as before. Rendered in two
 * spans, white space kept (`.cut-name`), so any run of white space in a name (a line break or a
 * tab in a device's meta) is one space here, as CSS would have drawn it.
 */
export function nameParts(name: string): NameParts {
  const shortened = name.replace(/\s+/g, ' ');
  const cut = shortened.indexOf(ELLIPSIS);
  if (cut >= 0 && cut < shortened.length - 1) {
    return { head: shortened.slice(0, cut + 1), tail: shortened.slice(cut + 1) };
  }
  const starts = wordStarts(shortened);
  if (!starts.length) return { head: shortened, tail: '' };
  const number = lastNumbered(shortened, starts);
  const at = number >= 0 ? number : starts[starts.length - 1];
  return { head: shortened.slice(0, at), tail: shortened.slice(at) };
}
