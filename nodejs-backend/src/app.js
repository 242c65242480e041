// The Express application: built here, listened on in server.js.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import express from 'express';
import helmet from 'helmet';
import { corsMiddleware } from './cors.js';
import { createLogger, requestLogger, round3 } from './logging.js';
import { CSP, HttpProblem, errorHandler, sendProblem, tooLarge } from './problem.js';
import { sendJson } from './respond.js';

const require = createRequire(import.meta.url);
const { name: SERVICE, version: VERSION } = require('../package.json');
const EXPRESS_VERSION = require('express/package.json').version;

// Process start, not app creation: what the platform and the contract mean by "started".
const STARTED_AT = new Date(Math.round(performance.timeOrigin)).toISOString();
const uptimeSeconds = () => round3(process.uptime());

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Tracks whether the process is shutting down; server.js flips it. */
export function createLifecycle() {
  return {
    shuttingDown: false,
    beginShutdown() {
      this.shuttingDown = true;
    },
  };
}

function requestId(req, res, next) {
  const incoming = req.get('X-Request-ID');
  req.id = incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.set('X-Request-ID', req.id);
  next();
}

/** Once shutdown has begun, every response tells the client to reconnect elsewhere. */
function closeWhenShuttingDown(lifecycle) {
  return function markConnection(req, res, next) {
    const writeHead = res.writeHead;
    res.writeHead = function writeHeadWithClose(...args) {
      if (lifecycle.shuttingDown && !this.headersSent) this.setHeader('Connection', 'close');
      return writeHead.apply(this, args);
    };
    next();
  };
}

function securityHeaders() {
  return [
    helmet({
      contentSecurityPolicy: false,
      crossOriginEmbedderPolicy: false, // the platform sets COEP/COOP via custom_headers
      crossOriginOpenerPolicy: false,
      crossOriginResourcePolicy: { policy: 'cross-origin' },
      frameguard: false, // the Space page on huggingface.co embeds the app
      hsts: false, // TLS ends at the platform's proxy
      referrerPolicy: { policy: 'no-referrer' },
      // Only the contract's headers, the same set python-backend sends.
      originAgentCluster: false,
      xDnsPrefetchControl: false,
      xDownloadOptions: false,
      xPermittedCrossDomainPolicies: false,
      xXssProtection: false,
    }),
    (req, res, next) => {
      res.set('Content-Security-Policy', CSP);
      next();
    },
  ];
}

/** 413 from Content-Length alone, before anything reads the body. */
function limitBody(maxBodyBytes) {
  return function rejectLargeBody(req, res, next) {
    const length = req.get('Content-Length');
    if (length === undefined || Number(length) <= maxBodyBytes) return next();
    // The body stays unread: close the connection rather than drain it.
    res.set('Connection', 'close');
    next(new HttpProblem(413, tooLarge(maxBodyBytes)));
  };
}

function methodNotAllowed(allow) {
  return (req) => {
    throw new HttpProblem(405, `${req.method} is not allowed on ${req.path}; use ${allow}.`, {
      Allow: allow,
    });
  };
}

// application/json or application/*+json, parameters ignored (werkzeug's is_json).
// The header is read directly: req.is() answers null when there is no body.
const JSON_TYPE = /^application\/(?:json|[a-z0-9!#$&^_.+-]+\+json)$/;
const isJson = (req) => JSON_TYPE.test((req.get('Content-Type') ?? '').split(';')[0].trim().toLowerCase());

/**
 * Build the application. Never listens.
 * @param {object} config from loadConfig()
 * @param {object} [options]
 * @param {import('pino').Logger} [options.logger] defaults to stdout at LOG_LEVEL
 * @param {ReturnType<typeof createLifecycle>} [options.lifecycle]
 */
export function createApp(config, {
  logger = createLogger({ level: config.logLevel, service: SERVICE }),
  lifecycle = createLifecycle(),
} = {}) {
  const openapi = readFileSync(new URL('./openapi.json', import.meta.url));
  const app = express();
  app.locals.lifecycle = lifecycle;

  app.disable('x-powered-by');
  app.set('trust proxy', 1); // the platform's proxy, one hop
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  app.set('etag', false); // bodies change per request (uptime, request id)

  app.use(requestId, requestLogger(logger), closeWhenShuttingDown(lifecycle));
  app.use(securityHeaders());
  app.use(corsMiddleware(config.corsOrigins));
  app.use(limitBody(config.maxBodyBytes));

  const readOnly = methodNotAllowed('GET, HEAD, OPTIONS');

  app.route('/')
    .get((req, res) => {
      const base = `${req.protocol}://${req.get('host')}`;
      res.set('Cache-Control', 'no-store');
      sendJson(res, {
        service: SERVICE,
        status: 'ok',
        version: VERSION,
        environment: config.appEnv,
        started_at: STARTED_AT,
        uptime_seconds: uptimeSeconds(),
        runtime: {
          language: 'node',
          language_version: process.versions.node,
          framework: 'express',
          framework_version: EXPRESS_VERSION,
        },
        space: config.space,
        links: { health: `${base}/health`, openapi: `${base}/openapi.json` },
      });
    })
    .all(readOnly);

  app.route('/health')
    .get((req, res) => {
      const pass = !lifecycle.shuttingDown;
      res.status(pass ? 200 : 503).set('Cache-Control', 'no-store');
      sendJson(res, {
        status: pass ? 'pass' : 'fail', service: SERVICE, version: VERSION, uptime_seconds: uptimeSeconds(),
      }, 'application/health+json');
    })
    .all(readOnly);

  app.route('/echo')
    .post(
      (req, res, next) => {
        if (isJson(req)) return next();
        throw new HttpProblem(415, 'Send a JSON body with Content-Type: application/json.');
      },
      express.json({
        limit: config.maxBodyBytes,
        strict: false,
        type: isJson,
        verify(req, res, buffer) {
          // body-parser turns an empty body into {}; the contract wants a JSON document.
          if (buffer.length === 0) throw Object.assign(new Error('empty body'), { status: 400, type: 'body.empty' });
        },
      }),
      (req, res) => {
        // No Content-Length and no Transfer-Encoding: nothing was sent at all.
        if (req.body === undefined) throw new HttpProblem(400, 'The request body is empty; send a JSON document.');
        sendJson(res, { received: req.body, request_id: req.id });
      },
    )
    .all(methodNotAllowed('POST, OPTIONS'));

  app.route('/openapi.json')
    .get((req, res) => {
      sendJson(res, openapi);
    })
    .all(readOnly);

  app.use((req, res) => {
    sendProblem(req, res, 404, `No resource at ${req.path}.`);
  });
  app.use(errorHandler({ logger, appEnv: config.appEnv, maxBodyBytes: config.maxBodyBytes }));
  return app;
}
