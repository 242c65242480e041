// The Express application: built here, listened on in server.js.
import express from 'express';
import { corsMiddleware } from './cors.js';
import { createLifecycle } from './lifecycle.js';
import { createLogger, requestLogger } from './logs.js';
import {
  closeWhenShuttingDown, limitBody, requestId, requireSoundHeaders, securityHeaders,
} from './middleware.js';
import { errorHandler, sendProblem } from './problems.js';
import { SERVICE, createRouter } from './routes.js';

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
  const app = express();
  app.locals.lifecycle = lifecycle;

  app.disable('x-powered-by');
  app.set('trust proxy', 1); // the platform's proxy, one hop
  app.set('etag', false); // bodies change per request (uptime, request id)

  app.use(requestId, requestLogger(logger), closeWhenShuttingDown(lifecycle), securityHeaders, requireSoundHeaders);
  app.use(corsMiddleware(config.corsOrigins));
  app.use(limitBody(config.maxBodyBytes));
  app.use(createRouter(config, lifecycle));

  app.use((req, res) => {
    sendProblem(req, res, 404, `No resource at ${req.path}.`);
  });
  app.use(errorHandler({ logger, appEnv: config.appEnv, maxBodyBytes: config.maxBodyBytes }));
  return app;
}
