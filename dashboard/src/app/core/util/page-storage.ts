/** The page's localStorage, or null where it is missing or refused (private mode, sandboxed frames, tests). */
export function pageStorage(win: Window | null | undefined): Storage | null {
  try {
    return win?.localStorage ?? null;
  } catch {
    return null;
  }
}
