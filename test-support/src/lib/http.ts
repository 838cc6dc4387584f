/**
 * JSON over HTTP for tests of the REST API: status and parsed body in one value, so a test can
 * assert both at once. Plain `fetch`; no retries, no knowledge of Pulse's routes.
 */

export interface JsonResponse<T> {
  status: number;
  body: T;
}

/** `headers`: e.g. `authorization` or `cookie` of a signed-in client. */
export async function getJson<T = unknown>(
  url: string,
  headers?: Record<string, string>,
): Promise<JsonResponse<T>> {
  const response = await fetch(url, { headers });
  return { status: response.status, body: (await response.json()) as T };
}

/** A JSON request (POST/PUT/DELETE...); the body of a 204 is null. */
export async function sendJson<T = unknown>(
  url: string,
  method: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text ? JSON.parse(text) : null) as T,
  };
}
