// JSON over fetch, as the app's insomniaFetch talks to the API: JSON bodies, the session in
// X-Session-Id, bodies parsed as JSON only when the server labels them so (§3.2).

/** An API failure; `status` is the HTTP status, `code` the server's error code when it sent one. */
export class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export function apiBase(api) {
  if (typeof api !== 'string') throw new Error('api must be the server base URL (a string)');
  return api.replace(/\/+$/, '');
}

export async function request({ api, fetch: fetchImpl = globalThis.fetch }, method, path, body, sessionId) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (sessionId) headers['X-Session-Id'] = sessionId;
  let response;
  try {
    response = await fetchImpl(`${apiBase(api)}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
    });
  } catch (err) {
    throw new ApiError(`cannot reach the server (${err.message || err})`, 0);
  }
  const isJson = (response.headers.get('content-type') || '').includes('application/json');
  const payload = isJson ? await response.json() : await response.text();
  if (!response.ok) {
    const why = isJson && payload ? payload.message || payload.error : payload;
    throw new ApiError(why || `HTTP ${response.status}`, response.status, isJson && payload ? payload.error : undefined);
  }
  return payload;
}
