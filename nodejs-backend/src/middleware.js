// What every request goes through: request ids, the headers every response
// carries, Connection: close once shutdown has begun, and the body limit.
import { randomUUID } from 'node:crypto';
import { REQUEST_ID, SECURITY_HEADERS } from './headers.js';
import { HttpProblem, tooLarge } from './problems.js';

const WELL_FORMED_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestId(req, res, next) {
  const incoming = req.get(REQUEST_ID);
  req.id = incoming !== undefined && WELL_FORMED_ID.test(incoming) ? incoming : randomUUID();
  res.set(REQUEST_ID, req.id);
  next();
}

export function securityHeaders(req, res, next) {
  res.set(SECURITY_HEADERS);
  next();
}

/** Once shutdown has begun, every response tells the client to reconnect elsewhere. */
export function closeWhenShuttingDown(lifecycle) {
  return function markConnection(req, res, next) {
    const writeHead = res.writeHead;
    res.writeHead = function writeHeadWithClose(...args) {
      if (lifecycle.shuttingDown && !this.headersSent) this.setHeader('Connection', 'close');
      return writeHead.apply(this, args);
    };
    next();
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
