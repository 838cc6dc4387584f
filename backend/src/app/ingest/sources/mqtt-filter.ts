/**
 * MQTT topic filters (`+` one level, `#` the rest) as matchers that hand back the topic's levels,
 * for the ingest sources. Owns filter syntax only.
 */

/** Whether `filter` is a valid MQTT filter: `#` only last and alone in its level, `+` alone. */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0 || filter.length > 256) return false;
  const levels = filter.split('/');
  return levels.every(
    (level, i) =>
      (level === '#' ? i === levels.length - 1 : !level.includes('#')) &&
      (level === '+' || !level.includes('+')),
  );
}

/** A matcher: the topic's levels when `topic` matches `filter`, else null. */
export function compileFilter(filter: string): (topic: string) => string[] | null {
  const want = filter.split('/');
  return (topic) => {
    const levels = topic.split('/');
    return levelsMatch(want, levels) ? levels : null;
  };
}

/**
 * Whether a topic's levels (`topic.split('/')`) match a filter's: for one topic tried against
 * several filters with one split. `a/#` matches `a` too; `$SYS/…` and other `$` topics never
 * match a wildcard in the first level (MQTT 4.7.2).
 */
export function levelsMatch(filter: readonly string[], levels: readonly string[]): boolean {
  const rest = filter[filter.length - 1] === '#';
  const fixed = rest ? filter.length - 1 : filter.length;
  if (levels[0].startsWith('$') && (filter[0] === '+' || filter[0] === '#')) return false;
  if (rest ? levels.length < fixed : levels.length !== fixed) return false;
  for (let i = 0; i < fixed; i++) if (filter[i] !== '+' && filter[i] !== levels[i]) return false;
  return true;
}

/**
 * {@link levelsMatch} without splitting the topic (no allocation per message): for the embedded
 * broker's QoS 1 hand-over, which tries every QoS 1 topic against the ingest's filters.
 */
export function topicMatches(filter: readonly string[], topic: string): boolean {
  if (topic.charCodeAt(0) === 36 /* $ */ && (filter[0] === '+' || filter[0] === '#')) return false;
  let at = 0; // where the topic's current level starts; past the end: no levels left
  for (let i = 0; i < filter.length; i++) {
    const want = filter[i];
    if (want === '#') return true; // the rest, or nothing (`a/#` matches `a`)
    if (at > topic.length) return false;
    let end = topic.indexOf('/', at);
    if (end === -1) end = topic.length;
    if (want !== '+' && (end - at !== want.length || !topic.startsWith(want, at))) return false;
    at = end + 1;
  }
  return at === topic.length + 1;
}

/**
 * What every topic a source's filter matches starts with, as a matcher of subscription filters
 * that lie under it: the filter's literal levels before its first wildcard (`zigbee2mqtt` of
 * `zigbee2mqtt/#`, `tele` of `tele/+/SENSOR`), any filter that starts with them
 * (`zigbee2mqtt/+/set`, `zigbee2mqtt/bridge/request/#`, `zigbee2mqtt`); a filter without a
 * wildcard is its own topic only. Null for a filter that starts with a wildcard (`+/status`): it
 * has no prefix, and everything would lie under it.
 */
export function prefixMatcher(source: string): ((filter: string) => boolean) | null {
  const levels = source.split('/');
  const wildcard = levels.findIndex((level) => level === '+' || level === '#');
  if (wildcard === 0) return null;
  if (wildcard < 0) return (filter) => filter === source;
  const prefix = levels.slice(0, wildcard);
  return (filter) => {
    if (!isValidFilter(filter)) return false;
    const want = filter.split('/');
    return want.length >= prefix.length && prefix.every((level, i) => want[i] === level);
  };
}

/**
 * {@link prefixMatcher} for topics rather than filters: the literal levels before the source
 * filter's first wildcard, and whether the filter had none (then it is its own topic only). A
 * topic lies under it when it is the prefix or starts with the prefix and a `/`. Null for a
 * filter that starts with a wildcard.
 */
export function topicPrefix(source: string): { prefix: string; exact: boolean } | null {
  const levels = source.split('/');
  const wildcard = levels.findIndex((level) => level === '+' || level === '#');
  if (wildcard === 0) return null;
  if (wildcard < 0) return { prefix: source, exact: true };
  return { prefix: levels.slice(0, wildcard).join('/'), exact: false };
}
