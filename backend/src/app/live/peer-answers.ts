/**
 * The other gateways' answers to a server-side event with acknowledgement (Socket.IO's Redis
 * adapter), within `waitMs`: all of them, or, when one did not answer in time (the adapter's own
 * timeout), those that came (the adapter hands them over with its error). The adapter never
 * settles a request whose server count failed (Redis away): past `waitMs` it counts as none
 * answered. Answers are outside input: the caller checks each.
 */
export async function peerAnswers(ask: Promise<unknown[]>, waitMs: number): Promise<unknown[]> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      ask,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer')), waitMs);
        timer.unref();
      }),
    ]);
  } catch (error) {
    return (error as { responses?: unknown[] } | null)?.responses ?? [];
  } finally {
    clearTimeout(timer);
  }
}
