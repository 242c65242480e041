// What every request goes through: request ids, the headers every response
// carries, Connection: close once shutdown has begun, and the body limit; and
// how a JSON body is read.
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { REQUEST_ID, SECURITY_HEADERS } from './headers.js';
import { authority } from './origin.js';
import { HttpProblem, timedOut, tooLarge } from './problems.js';

// Emitted on a request by server.js when REQUEST_TIMEOUT passes while its body is being read.
export const REQUEST_TIMED_OUT = Symbol('request timed out');
const WELL_FORMED_ID = /^[A-Za-z0-9._:-]{1,128}$/;
// Deeper documents are refused: the contract's limit, as python-backend's.
export const MAX_JSON_DEPTH = 100;
const TOO_DEEP = `The JSON body nests deeper than ${MAX_JSON_DEPTH} levels.`;
const NOT_JSON = 'The request body is not valid JSON.';
const BAD_HOST = 'The Host header is not a valid host[:port].';
const OUT_OF_RANGE = 'The JSON body has a number outside the range of a double (about 1.8e308).';

export function requestId(req, res, next) {
  const incoming = req.get(REQUEST_ID);
  req.id = incoming !== undefined && WELL_FORMED_ID.test(incoming) ? incoming : randomUUID();
  res.set(REQUEST_ID, req.id);
  next();
}

/**
 * What Node's parser lets through, or its server answers bare (server.js lets
 * those through), refused as python-backend (gunicorn) refuses them.
 */
export function requireSoundHeaders(req, res, next) {
  if (req.httpVersionMajor !== 1) throw new HttpProblem(400, 'The HTTP version is not supported; use HTTP/1.1.');
  const hosts = countHeader(req.rawHeaders, 'host');
  if (hosts > 1) throw new HttpProblem(400, 'A request must carry one Host header, not several.');
  if (req.httpVersion === '1.1' && hosts === 0) {
    throw new HttpProblem(400, 'An HTTP/1.1 request must carry a Host header.');
  }
  if (hosts === 1 && authority(req.headers.host) === undefined) throw new HttpProblem(400, BAD_HOST);
  const expect = req.headers.expect;
  if (expect !== undefined && expect.trim().toLowerCase() !== '100-continue') {
    throw new HttpProblem(417, 'The only expectation supported is 100-continue.');
  }
  const coding = req.headers['transfer-encoding'];
  if (coding !== undefined && req.httpVersion === '1.0') {
    throw new HttpProblem(400, 'HTTP/1.0 has no Transfer-Encoding; send a Content-Length.');
  }
  if (coding !== undefined && coding.trim().toLowerCase() !== 'chunked') {
    throw new HttpProblem(501, 'The only transfer coding supported is chunked.');
  }
  next();
}

/** How often a header occurs; from rawHeaders, which req.headersDistinct would copy whole. */
function countHeader(rawHeaders, name) {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].length === name.length && rawHeaders[i].toLowerCase() === name) count += 1;
  }
  return count;
}

const SECURITY_ENTRIES = Object.entries(SECURITY_HEADERS);

export function securityHeaders(req, res, next) {
  for (const [name, value] of SECURITY_ENTRIES) res.setHeader(name, value);
  next();
}

/**
 * Once shutdown has begun, every response tells the client to reconnect elsewhere;
 * while the listener is being stopped, requests wait for it (lifecycle.js).
 */
export function closeWhenShuttingDown(lifecycle) {
  return function markConnection(req, res, next) {
    const writeHead = res.writeHead;
    res.writeHead = function writeHeadWithClose(...args) {
      if (lifecycle.shuttingDown && !this.headersSent) this.setHeader('Connection', 'close');
      return writeHead.apply(this, args);
    };
    lifecycle.whenAnswering(next);
  };
}

/** 413 from Content-Length alone, before anything reads the body. */
export function limitBody(maxBodyBytes) {
  return function rejectLargeBody(req, res, next) {
    const length = req.get('Content-Length');
    if (length === undefined || Number(length) <= maxBodyBytes) return next();
    // The body stays unread: close the connection rather than drain it.
    res.set('Connection', 'close');
    next(new HttpProblem(413, tooLarge(maxBodyBytes)));
  };
}

/**
 * The body, up to maxBodyBytes, whatever its framing. Past the limit nothing more
 * is read: a 413 that closes the connection (an endless chunked body ends there).
 * A client that expects 100-continue is invited here, once the body is to be read
 * (server.js leaves it to the app); an answer given without reading the body
 * sends none, and Node then closes the connection after it.
 */
function readBody(req, res, { maxBodyBytes, requestTimeout }) {
  if (req.headers.expect !== undefined && req.httpVersion === '1.1') res.writeContinue();
  return new Promise((resolve, reject) => {
    const chunks = [];
    let received = 0;
    const settle = (outcome, value) => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose)
        .off(REQUEST_TIMED_OUT, onTimeout);
      outcome(value);
    };
    function onTimeout() {
      req.pause();
      res.set('Connection', 'close');
      settle(reject, new HttpProblem(408, timedOut(requestTimeout)));
    }
    function onData(chunk) {
      received += chunk.length;
      if (received > maxBodyBytes) {
        req.pause();
        res.set('Connection', 'close');
        settle(reject, new HttpProblem(413, tooLarge(maxBodyBytes)));
        return;
      }
      chunks.push(chunk);
    }
    const onEnd = () => settle(resolve, Buffer.concat(chunks, received));
    const onError = () => settle(reject, new HttpProblem(400, 'The request was aborted before its body arrived.'));
    const onClose = () => { if (!req.complete) onError(); };
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose)
      .on(REQUEST_TIMED_OUT, onTimeout);
  });
}

/**
 * Why a parsed document is refused, or undefined: nesting deeper than
 * MAX_JSON_DEPTH, or a number too large for a double (JSON.parse makes Infinity
 * of it). Iterative, so no document can exhaust the stack.
 */
function refusal(value) {
  const stack = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop();
    if (typeof item === 'number' && !Number.isFinite(item)) return OUT_OF_RANGE;
    if (item === null || typeof item !== 'object') continue;
    if (depth + 1 > MAX_JSON_DEPTH) return TOO_DEEP;
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, depth + 1]);
  }
  return undefined;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * req.body: the request body as JSON (RFC 8259, UTF-8) within the contract's
 * limits, or the problem that says why not. python-backend reads alike.
 */
export function jsonBody({ maxBodyBytes, requestTimeout }) {
  return async function readJson(req, res, next) {
    const encoding = (req.get('Content-Encoding') ?? '').trim().toLowerCase();
    if (encoding !== '' && encoding !== 'identity') {
      throw new HttpProblem(415, `The content encoding ${JSON.stringify(encoding)} is not supported.`);
    }
    const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(req.get('Content-Type') ?? '')?.[1];
    if (charset !== undefined && !['utf-8', 'utf8'].includes(charset.toLowerCase())) {
      throw new HttpProblem(415, `The charset ${JSON.stringify(charset)} is not supported; use utf-8.`);
    }
    let data = await readBody(req, res, { maxBodyBytes, requestTimeout });
    if (data.length === 0) throw new HttpProblem(400, 'The request body is empty; send a JSON document.');
    if (!isUtf8(data)) throw new HttpProblem(400, 'The request body is not valid UTF-8.');
    if (data.subarray(0, 3).equals(BOM)) data = data.subarray(3); // ignored, as RFC 8259 (section 8.1) allows
    let value;
    try {
      value = JSON.parse(data.toString('utf8'));
    } catch {
      throw new HttpProblem(400, NOT_JSON);
    }
    const refused = refusal(value);
    if (refused !== undefined) throw new HttpProblem(400, refused);
    req.body = value;
    next();
  };
}
