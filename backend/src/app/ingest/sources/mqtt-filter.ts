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
  const rest = want[want.length - 1] === '#';
  const fixed = rest ? want.length - 1 : want.length;
  return (topic) => {
    // `$SYS/…` and other `$` topics never match a wildcard in the first level (MQTT 4.7.2).
    if (topic.startsWith('$') && (want[0] === '+' || want[0] === '#')) return null;
    const levels = topic.split('/');
    if (rest ? levels.length < fixed : levels.length !== fixed) return null;
    for (let i = 0; i < fixed; i++) if (want[i] !== '+' && want[i] !== levels[i]) return null;
    return levels;
  };
}
