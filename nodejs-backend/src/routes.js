// The contract's endpoints: status, health, echo and the OpenAPI document.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import express from 'express';
import { HEALTH_JSON, sendJson } from './headers.js';
import { STARTED_AT, uptimeSeconds } from './lifecycle.js';
import { jsonBody } from './middleware.js';
import { publicOrigin } from './origin.js';
import { HttpProblem } from './problems.js';

const require = createRequire(import.meta.url);
export const { name: SERVICE, version: VERSION } = require('../package.json');
const EXPRESS_VERSION = require('express/package.json').version;
const OPENAPI = readFileSync(new URL('./openapi.json', import.meta.url));

function methodNotAllowed(allow) {
  return (req) => {
    throw new HttpProblem(405, `${req.method} is not allowed on ${req.path}; use ${allow}.`, { Allow: allow });
  };
}

// application/json or application/*+json, parameters ignored (werkzeug's is_json).
// The header is read directly: req.is() answers null when there is no body.
const JSON_TYPE = /^application\/(?:json|[a-z0-9!#$&^_.+-]+\+json)$/;
const isJson = (req) => JSON_TYPE.test((req.get('Content-Type') ?? '').split(';')[0].trim().toLowerCase());

/** The router for `config`, reading the shutdown flag from `lifecycle`. */
export function createRouter(config, lifecycle) {
  const router = express.Router({ caseSensitive: true, strict: true });
  const readOnly = methodNotAllowed('GET, HEAD, OPTIONS');

  router.route('/')
    .get((req, res) => {
      const origin = publicOrigin(config.spaceHost, req);
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
        links: { health: `${origin}/health`, openapi: `${origin}/openapi.json` },
      });
    })
    .all(readOnly);

  router.route('/health')
    .get((req, res) => {
      const pass = !lifecycle.shuttingDown;
      res.status(pass ? 200 : 503).set('Cache-Control', 'no-store');
      sendJson(res, {
        status: pass ? 'pass' : 'fail', service: SERVICE, version: VERSION, uptime_seconds: uptimeSeconds(),
      }, HEALTH_JSON);
    })
    .all(readOnly);

  router.route('/echo')
    .post(
      (req, res, next) => {
        if (isJson(req)) return next();
        throw new HttpProblem(415, 'Send a JSON body with Content-Type: application/json.');
      },
      jsonBody(config),
      (req, res) => {
        sendJson(res, { received: req.body, request_id: req.id });
      },
    )
    .all(methodNotAllowed('POST, OPTIONS'));

  router.route('/openapi.json')
    .get((req, res) => {
      sendJson(res, OPENAPI);
    })
    .all(readOnly);

  return router;
}
