/**
 * The gateway's HTTP side for a test (FETCH's value): each request waits until the test answers
 * it (`respond`), or is refused at once (503) while `down`.
 */
export function fakeHttp(down = false) {
  const http = {
    down,
    asked: [] as {
      url: URL;
      signal: AbortSignal | null;
      respond: (status: number, body?: unknown) => void;
    }[],
    fetch: (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const url = new URL(String(input), 'http://localhost'); // jsdom's origin
      if (http.down) return Promise.resolve({ ok: false, status: 503 } as Response);
      return new Promise((resolve) =>
        http.asked.push({
          url,
          signal: init?.signal ?? null,
          respond: (status, body) =>
            resolve({
              ok: status === 200,
              status,
              json: async () => JSON.parse(JSON.stringify(body)),
            } as Response),
        }),
      );
    },
  };
  return http;
}
