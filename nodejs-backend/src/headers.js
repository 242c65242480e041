// The headers and media types of the contract: the one place each is written.
// Every response carries SECURITY_HEADERS and X-Request-ID (middleware.js for the
// app's answers, problems.rawProblem for the ones Node's parser refuses); CORS
// answers use the fixed lists below (cors.js).

export const REQUEST_ID = 'X-Request-ID';

export const SECURITY_HEADERS = Object.freeze({
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'cross-origin',
  // Embeddable in the Space page on huggingface.co ('self' is the Space's own origin).
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'self' https://huggingface.co",
});

export const CORS_METHODS = Object.freeze(['GET', 'HEAD', 'POST', 'OPTIONS']);
export const CORS_HEADERS = Object.freeze(['Content-Type', 'Authorization', REQUEST_ID]);
export const CORS_EXPOSE = Object.freeze([REQUEST_ID]);
export const CORS_MAX_AGE = 600;

export const PROBLEM_JSON = 'application/problem+json';
export const HEALTH_JSON = 'application/health+json';

/**
 * A JSON body with an exact Content-Type. Express appends "; charset=utf-8" to
 * string bodies and to types set through res.set()/res.type(); JSON has no
 * charset parameter (RFC 8259), and python-backend sends none, so neither do we.
 */
export function sendJson(res, body, type = 'application/json') {
  // Straight to Node's response: Express's res.send() would copy the body into a Buffer and
  // look at ETag and freshness, which this service does not use (about 14% of its time).
  const payload = Buffer.isBuffer(body) ? body : JSON.stringify(body);
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(payload));
  res.end(payload);
}
