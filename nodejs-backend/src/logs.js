// JSON-line logs on stdout with the level names the Python service uses.
import pino from 'pino';

// Contract level names (LOG_LEVEL) to pino's, and pino's labels back.
const TO_PINO = { debug: 'debug', info: 'info', warning: 'warn', error: 'error', critical: 'fatal' };
const FROM_PINO = { warn: 'warning', fatal: 'critical' };

/**
 * @param {object} options
 * @param {string} [options.level] a LOG_LEVEL value, or "silent"
 * @param {string} [options.service]
 * @param {import('pino').DestinationStream} [destination] stdout by default
 */
export function createLogger({ level = 'info', service = 'nodejs-backend' } = {}, destination) {
  return pino({
    level: TO_PINO[level] ?? level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: FROM_PINO[label] ?? label }) },
  }, destination);
}

/** A number rounded to 3 decimals (milliseconds of seconds, microseconds of ms). */
export const round3 = (value) => Math.round(value * 1000) / 1000;

/** One "request" line per request, once the response is done (or the client left). */
export function requestLogger(logger) {
  return function logRequest(req, res, next) {
    const start = process.hrtime.bigint();
    const { method, path } = req; // captured now: routing may rewrite req.path
    res.once('close', () => {
      logger.info({
        request_id: req.id,
        method,
        path,
        status: res.statusCode,
        duration_ms: round3(Number(process.hrtime.bigint() - start) / 1e6),
        client: req.ip,
        ...(res.writableFinished ? {} : { aborted: true }),
      }, 'request');
    });
    next();
  };
}
