// The dashboard's only data source: the JSON API under /v1 (with the API key).

const KEY = "communitok.apiKey";

export function getKey() {
  return sessionStorage.getItem(KEY) || "";
}

export function setKey(key) {
  if (key) sessionStorage.setItem(KEY, key.trim());
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, code, message, requestId) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

/** Call the API: `api("/trends/discover", {query: {limit: 20}})`. Throws ApiError. */
export async function api(path, { method = "GET", query, body } = {}) {
  const url = new URL("/v1" + path, window.location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
  }
  const headers = { Accept: "application/json" };
  const key = getKey();
  if (key) headers.Authorization = "Bearer " + key;
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new ApiError(0, "network", "the server could not be reached", null);
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = (data && data.error) || {};
    throw new ApiError(res.status, err.code || "error", err.message || res.statusText,
      err.request_id || res.headers.get("X-Request-ID"));
  }
  return data;
}

/** True when the API says the feature does not exist on this server yet. */
export function isUnavailable(err) {
  return err instanceof ApiError && (err.status === 501 || err.code === "not_implemented");
}

let healthCache = null;
export async function health() {
  if (!healthCache) healthCache = api("/health");
  return healthCache;
}
