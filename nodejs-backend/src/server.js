// Entry point: configuration, listening, graceful shutdown.
//
// Exit status: 78 (EX_CONFIG) for invalid configuration, before binding;
// 0 after a clean shutdown; 1 when the SHUTDOWN_TIMEOUT deadline had to cut
// open connections, on a second signal, or when the server cannot listen.
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLifecycle } from './lifecycle.js';
import { createLogger } from './logs.js';
import { clientErrorResponse } from './problems.js';

const EX_CONFIG = 78;

// For local runs; process.loadEnvFile never overrides variables already set.
const envFile = fileURLToPath(new URL('../.env', import.meta.url));
if (existsSync(envFile)) process.loadEnvFile(envFile);

function start() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exitCode = EX_CONFIG;
    return;
  }

  const logger = createLogger({ level: config.logLevel });
  const lifecycle = createLifecycle();
  const server = createServer(createApp(config, { logger, lifecycle }));
  // Longer than common proxy idle timeouts, so the proxy closes first (as python-backend's 75 s).
  server.keepAliveTimeout = 75_000;

  // Requests the HTTP parser refuses never reach Express; Node's own answer is an
  // empty 400. Answer with problem+json like every other error.
  server.on('clientError', (err, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable || socket._httpMessage?.headersSent) {
      socket.destroy();
      return;
    }
    logger.warn({ code: err.code }, 'invalid request');
    socket.end(clientErrorResponse(err));
  });
  server.on('error', (err) => {
    logger.fatal({ err }, 'server error');
    process.exit(1);
  });
  server.listen(config.port, config.host, () => {
    const { address, port } = server.address();
    logger.info({ host: address, port, environment: config.appEnv }, 'listening');
  });

  function shutdown(signal) {
    if (lifecycle.shuttingDown) {
      logger.warn({ signal }, 'second signal, exiting now');
      process.exit(1);
    }
    lifecycle.beginShutdown(); // /health answers 503 from now on

    const deadline = setTimeout(() => {
      logger.warn('shutdown deadline reached, closing open connections');
      server.closeAllConnections();
      process.exit(1);
    }, config.shutdownTimeout * 1000);
    deadline.unref();

    server.close(() => {
      logger.info('stopped');
      process.exit(0);
    });
    // Keep-alive sockets with no request in flight would hold close() open.
    server.closeIdleConnections();
    // Logged once the listening socket is closed, so the line means "no longer accepting".
    logger.info({ signal, timeout_seconds: config.shutdownTimeout }, 'shutting down');
  }
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

start();
