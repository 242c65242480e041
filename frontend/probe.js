// Calls to one backend. Every call either resolves with what the backend said
// or rejects with a CallError whose `kind` says why, as precisely as a page
// can tell:
//   network  nothing answered (connection refused, DNS, offline, blocked)
//   cors     the server answered, but the browser would not let this origin
//            read the answer (or send the request, after a refused preflight)
//   timeout  no complete answer within the time limit
//   http     an answer with an error status (4xx/5xx)

export class CallError extends Error {
  constructor(kind, message, { status = null, requestId = null } = {}) {
    super(message);
    this.name = 'CallError';
    this.kind = kind;
    this.status = status;
    this.requestId = requestId;
  }
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export function join(base, path) {
  return `${base.replace(/\/+$/, '')}${path}`;
}

// Contract: 1 to 128 characters from A-Z a-z 0-9 . _ : -
export function newRequestId() {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return `frontend-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

// A page served over https may not call an http:// URL (mixed content), except
// loopback, which browsers treat as trustworthy. The browser reports such a
// block exactly like a network failure, so say it before trying.
function mixedContent(base) {
  const url = new URL(base);
  return window.location.protocol === 'https:' && url.protocol === 'http:' && !LOOPBACK.has(url.hostname);
}

// fetch() under one deadline that covers reading the body too.
async function timed(url, init, timeoutMs, read) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const started = performance.now();
  try {
    const response = await fetch(url, { ...init, cache: 'no-store', signal: controller.signal });
    const body = await read(response);
    return { response, body, ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

async function readJson(response) {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// Does anything answer at `base`? A no-cors request is never refused for CORS:
// the browser sends it and hands back an opaque response it will not let us
// read. So it resolves whenever a server answered (any status), and rejects
// only when nothing did.
async function serverAnswers(base, timeoutMs) {
  try {
    await timed(join(base, '/health'), { mode: 'no-cors' }, timeoutMs, () => null);
    return true;
  } catch {
    return false;
  }
}

// Why did a cors-mode fetch fail? The browser deliberately gives every failure
// the same opaque TypeError ("Failed to fetch"), CORS refusals included, so the
// page cannot be told directly. The heuristic: when a cors-mode call throws a
// TypeError but a no-cors probe of the same server then gets an answer, the
// server is up and the refusal was the browser's CORS check (the origin is not
// in CORS_ORIGINS, a preflight was refused, or the URL is not one of these
// backends and sends no CORS headers at all). When the probe fails too, nothing
// answered: a network failure. A server that goes down between the two calls
// reads as a network failure, which is then true.
async function explain(error, base, timeoutMs, what) {
  if (error.name === 'AbortError') {
    return new CallError('timeout', `${what}: no answer within ${timeoutMs / 1000} s.`);
  }
  if (!(error instanceof TypeError)) {
    return new CallError('network', `${what}: ${error.message}`);
  }
  if (mixedContent(base)) {
    return new CallError('network', `${what}: blocked, an https page may not call an http:// URL (mixed content).`);
  }
  if (await serverAnswers(base, timeoutMs)) {
    return new CallError(
      'cors',
      `${what}: the server answered, but not to this origin (${window.location.origin}). ` +
        'Add it to the backend\'s CORS_ORIGINS.',
    );
  }
  return new CallError('network', `${what}: no answer from ${base} (down, wrong URL, or offline).`);
}

function httpError(what, response, body) {
  const title = body && typeof body === 'object' && body.title ? `: ${body.title}` : '';
  const detail = body && typeof body === 'object' && body.detail ? ` (${body.detail})` : '';
  return new CallError('http', `${what}: HTTP ${response.status}${title}${detail}`, {
    status: response.status,
    requestId: response.headers.get('X-Request-ID'),
  });
}

async function call(base, path, init, timeoutMs, what) {
  let result;
  try {
    result = await timed(join(base, path), { mode: 'cors', ...init }, timeoutMs, readJson);
  } catch (error) {
    throw await explain(error, base, timeoutMs, what);
  }
  return result;
}

/** GET / : the status document and the round-trip time in milliseconds. */
export async function getStatus(base, timeoutMs) {
  const { response, body, ms } = await call(base, '/', {}, timeoutMs, 'GET /');
  if (!response.ok) throw httpError('GET /', response, body);
  if (!body || typeof body !== 'object') throw new CallError('http', 'GET /: the answer is not JSON.');
  return { status: body, ms, requestId: response.headers.get('X-Request-ID') };
}

/** GET /health : "pass", or "fail" (a 503 with a health body is an answer, not an error). */
export async function getHealth(base, timeoutMs) {
  const { response, body } = await call(base, '/health', {}, timeoutMs, 'GET /health');
  if (body && typeof body === 'object' && (body.status === 'pass' || body.status === 'fail')) {
    return { health: body.status, httpStatus: response.status };
  }
  throw httpError('GET /health', response, body);
}

/**
 * POST /echo with Content-Type: application/json and a custom X-Request-ID:
 * neither is allowed in a "simple" request, so the browser first sends an
 * OPTIONS preflight and only sends the POST if the server allows it.
 */
export async function postEcho(base, timeoutMs, requestId = newRequestId()) {
  const init = {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Request-ID': requestId },
    body: JSON.stringify({ from: 'frontend', sent_at: new Date().toISOString() }),
  };
  const { response, body, ms } = await call(base, '/echo', init, timeoutMs, 'POST /echo');
  if (!response.ok) throw httpError('POST /echo', response, body);
  return {
    sent: requestId,
    echoed: body && typeof body === 'object' ? body.request_id : null,
    // Readable only because the backend lists it in Access-Control-Expose-Headers.
    header: response.headers.get('X-Request-ID'),
    ms,
  };
}
