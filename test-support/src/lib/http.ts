/**
 * JSON over HTTP for tests of the REST API: status and parsed body in one value, so a test can
 * assert both at once. Plain `fetch`; no retries, no knowledge of Pulse's routes.
 */

export interface JsonResponse<T> {
  status: number;
  body: T;
}

export async function getJson<T = unknown>(url: string): Promise<JsonResponse<T>> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as T };
}

/** A JSON request (POST/PUT/DELETE...); the body of a 204 is null. */
export async function sendJson<T = unknown>(
  url: string,
  method: string,
  body?: unknown,
): Promise<JsonResponse<T>> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text ? JSON.parse(text) : null) as T,
  };
}
