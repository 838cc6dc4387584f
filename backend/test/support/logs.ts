/**
 * What the backend under test logs (Nest's console logger writes to this process's stdout and
 * stderr): a tap for specs that check a secret never reaches a log line. Owns the tap only;
 * the output still goes through.
 */
export interface LogTap {
  text(): string;
  stop(): void;
}

/** Start copying everything written to stdout and stderr until `stop()`. */
export function tapLogs(): LogTap {
  let text = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const tap =
    (write: typeof out): typeof out =>
    (chunk: string | Uint8Array, ...rest: unknown[]) => {
      text += chunk.toString();
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    };
  process.stdout.write = tap(out);
  process.stderr.write = tap(err);
  return {
    text: () => text,
    stop: () => {
      process.stdout.write = out;
      process.stderr.write = err;
    },
  };
}

/** Every line the backend logs while `run` runs. */
export async function captureLogs(run: () => Promise<void>): Promise<string> {
  const logs = tapLogs();
  try {
    await run();
  } finally {
    logs.stop();
  }
  return logs.text();
}
