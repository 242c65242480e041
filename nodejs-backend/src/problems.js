// Every error leaves as RFC 9457 problem details (application/problem+json):
// the app's own through sendProblem(), and the ones Node's parser refuses through
// rawProblem(). problemBody() builds the body of both.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { PROBLEM_JSON, REQUEST_ID, SECURITY_HEADERS, sendJson } from './headers.js';

// The titles python-backend sends (werkzeug's names), so both services read alike.
const TITLES = { ...STATUS_CODES, 413: 'Request Entity Too Large' };
const title = (status) => TITLES[status] ?? 'Error';

export const tooLarge = (maxBodyBytes) => `The request body exceeds the limit of ${maxBodyBytes} bytes.`;
/** The detail of a 408: REQUEST_TIMEOUT passed before the request had arrived. */
export const timedOut = (seconds) => `The request did not arrive within ${seconds} seconds.`;

/** An error that carries the status and detail of the problem to send. */
export class HttpProblem extends Error {
  constructor(status, detail, headers = {}) {
    super(detail);
    this.name = 'HttpProblem';
    this.status = status;
    this.headers = headers;
  }
}

export function problemBody(status, detail, instance, requestId, extra = {}) {
  return {
    type: 'about:blank',
    title: title(status),
    status,
    detail,
    instance,
    request_id: requestId,
    ...extra,
  };
}

export function sendProblem(req, res, status, detail, extra = {}) {
  res.status(status);
  sendJson(res, problemBody(status, detail, req.path, req.id, extra), PROBLEM_JSON);
}

/**
 * A whole HTTP/1.1 problem response, for requests Node's parser refuses before
 * Express sees them (a malformed request line, headers over the limit): the
 * headers every response carries, no parsed path for `instance`.
 */
export function rawProblem(status, detail) {
  const requestId = randomUUID();
  const body = JSON.stringify(problemBody(status, detail, '', requestId));
  const headers = {
    'Content-Type': PROBLEM_JSON,
    'Content-Length': Buffer.byteLength(body),
    Connection: 'close',
    [REQUEST_ID]: requestId,
    ...SECURITY_HEADERS,
  };
  const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return `HTTP/1.1 ${status} ${title(status)}\r\n${head}\r\n${body}`;
}

// Node's HTTP parser errors (server 'clientError'): status and a plain sentence.
const CLIENT_ERRORS = {
  HPE_HEADER_OVERFLOW: () => [431, 'The request headers exceed the size limit.'],
  ERR_HTTP_REQUEST_TIMEOUT: (config) => [408, timedOut(config.requestTimeout)],
};

/** The answer to a request Node could not parse, or that did not arrive in time. */
export function clientErrorResponse(err, config) {
  const [status, detail] = CLIENT_ERRORS[err.code]?.(config) ?? [400, 'The request is not valid HTTP.'];
  return rawProblem(status, detail);
}

// body-parser (and raw-body) errors carry a `type`; give each a plain sentence.
function describe(err, maxBodyBytes) {
  switch (err.type) {
    case 'entity.too.large':
      return [413, tooLarge(maxBodyBytes)];
    case 'entity.parse.failed':
      return [400, 'The request body is not valid JSON.'];
    case 'body.empty':
      return [400, 'The request body is empty; send a JSON document.'];
    case 'charset.unsupported':
      return [415, `The charset ${JSON.stringify(err.charset)} is not supported; use utf-8.`];
    case 'encoding.unsupported':
      return [415, `The content encoding ${JSON.stringify(err.encoding)} is not supported.`];
    case 'request.aborted':
      return [400, 'The request was aborted before its body arrived.'];
    case 'request.size.invalid':
      return [400, 'The request body does not match its Content-Length.'];
    default:
      return undefined;
  }
}

/** The last middleware: every error becomes a problem response, never HTML. */
export function errorHandler({ logger, appEnv, maxBodyBytes }) {
  // Express recognises error handlers by their four parameters.
  return function handleError(err, req, res, _next) {
    const known = err instanceof HttpProblem
      ? [err.status, err.message]
      : describe(err, maxBodyBytes);
    const clientError = !known && err.expose && err.status >= 400 && err.status < 500;
    const [status, detail] = known
      ?? (clientError ? [err.status, err.message] : [500, 'The server failed to handle the request.']);

    if (status >= 500) {
      logger.error({ err, request_id: req.id, method: req.method, path: req.path }, 'unhandled error');
    }
    if (res.headersSent) {
      // Too late for a problem body; cut the response so the client sees a failure.
      req.socket.destroy();
      return;
    }
    if (err instanceof HttpProblem) res.set(err.headers);
    const extra = status >= 500 && appEnv === 'development' ? { stack: err.stack } : {};
    sendProblem(req, res, status, detail, extra);
  };
}
