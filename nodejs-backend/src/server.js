// Entry point: configuration, listening, graceful shutdown.
//
// Exit status: 78 (EX_CONFIG) for invalid configuration, before binding;
// 0 after a clean shutdown; 1 when the SHUTDOWN_TIMEOUT deadline had to cut
// open connections, on a second signal, or when the server cannot listen.
import {
  closeSync, existsSync, openSync, readlinkSync, readSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLifecycle } from './lifecycle.js';
import { createLogger } from './logs.js';
import { REQUEST_TIMED_OUT } from './middleware.js';
import { clientErrorResponse, rawProblem } from './problems.js';

const EX_CONFIG = 78;
const STOP_LINGER_MS = 1000; // as python-backend's GracefulGeventWorker.STOP_LINGER

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
  const app = createApp(config, { logger, lifecycle });
  // A request's headers and body must all arrive within REQUEST_TIMEOUT of its first
  // byte (for a new connection, of the connection); Node checks every connection that
  // far along at connectionsCheckingInterval (by default 30 s, too coarse for that).
  const requestTimeoutMs = config.requestTimeout * 1000;
  // A missing Host and an Expect other than 100-continue reach the app, which
  // answers them with a problem like every other error (Node's own answers are bare).
  const server = createServer({
    requireHostHeader: false,
    headersTimeout: requestTimeoutMs,
    requestTimeout: requestTimeoutMs,
    connectionsCheckingInterval: Math.round(Math.min(1000, requestTimeoutMs / 4)),
  }, app);
  server.on('checkExpectation', app);
  // Node would send `100 Continue` before the app has looked at the request, inviting
  // a body it may refuse unread (413 at once): the body reader sends it (middleware.js).
  server.on('checkContinue', app);
  // Node hands CONNECT to this event, never to the app; without a listener it drops the connection.
  server.on('connect', (req, socket) => {
    socket.end(rawProblem(501, 'CONNECT is not supported: this service is not a proxy.'));
  });
  // Longer than common proxy idle timeouts, so the proxy closes first (as python-backend's 75 s).
  server.keepAliveTimeout = 75_000;

  // Requests the HTTP parser refuses never reach Express; Node's own answer is an
  // empty 400. Answer with problem+json like every other error.
  server.on('clientError', (err, socket) => {
    const inFlight = socket._httpMessage; // the response to a request the app has in hand
    // REQUEST_TIMEOUT with the body still arriving: the app's body reader answers 408.
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && inFlight && !inFlight.headersSent
      && inFlight.req.emit(REQUEST_TIMED_OUT)) return;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    logger.warn({ code: err.code }, 'invalid request');
    socket.end(clientErrorResponse(err, config));
    socket.destroySoon();
  });
  server.on('error', (err) => {
    logger.fatal({ err }, 'server error');
    process.exit(1);
  });
  let listener; // where the kernel tells how many connections wait on the listening socket
  server.listen(config.port, config.host, () => {
    const { address, port } = server.address();
    listener = locateListener(server);
    logger.info({ host: address, port, environment: config.appEnv }, 'listening');
  });

  let stopping = false;
  function shutdown(signal) {
    if (stopping) {
      logger.warn({ signal }, 'second signal, exiting now');
      process.exit(1);
    }
    stopping = true;

    const deadline = setTimeout(() => {
      logger.warn('shutdown deadline reached, closing open connections');
      server.closeAllConnections();
      process.exit(1);
    }, config.shutdownTimeout * 1000);
    deadline.unref();

    // Connections the kernel has queued but Node has not accepted yet would be reset by
    // closing the listener. Node (libuv) accepts one connection per turn of its event
    // loop and has no call to accept until the queue is empty (as python-backend's
    // worker does), and clients refill the queue as fast as they are answered. So,
    // until the listener is closed: a backlog of 0 (the kernel drops a new connection
    // attempt while one is queued: it retries, and finds the port closed), requests
    // wait unanswered (lifecycle.js: an answered client would connect again), and the
    // listener closes at a moment its queue is seen empty: now, or right after the
    // accept that empties it (the 'connection' event).
    lifecycle.beginStopping();
    const giveUp = Date.now() + STOP_LINGER_MS; // a queue never seen empty: close anyway
    let closing = false;
    function stopAccepting() {
      if (closing || (Date.now() < giveUp && queuedConnections(listener) > 0)) return;
      closing = true;
      server.off('connection', stopAccepting);
      // net.Server's close: the listener only. http.Server's would also drop every
      // idle keep-alive connection at once, resetting a request a client is sending
      // on one right then; those connections get STOP_LINGER_MS to bring it (answered
      // with Connection: close, see middleware.js) and are closed after.
      Server.prototype.close.call(server, () => {
        logger.info('stopped');
        process.exit(0);
      });
      // Then the requests that waited proceed: /health answers 503, every answer closes its connection.
      lifecycle.beginShutdown();
      setTimeout(() => {
        server.closeIdleConnections();
        setInterval(() => server.closeIdleConnections(), 50).unref();
      }, STOP_LINGER_MS).unref();
      // Logged once the listening socket is closed, so the line means "no longer accepting".
      logger.info({ signal, timeout_seconds: config.shutdownTimeout }, 'shutting down');
    }
    if (listener !== undefined) server._handle.listen(0); // listen(2) again: only the backlog changes
    server.on('connection', stopAccepting); // after http.Server's own: the connection is served
    stopAccepting();
  }
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

/**
 * The listening socket's line in the kernel's TCP table (Linux: /proc/net/tcp or
 * tcp6, by its inode), or undefined where there is none to read.
 */
function locateListener(server) {
  try {
    const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${server._handle.fd}`))?.[1];
    const table = server.address().family === 'IPv6' ? '/proc/net/tcp6' : '/proc/net/tcp';
    return inode === undefined ? undefined : { table, inode };
  } catch {
    return undefined;
  }
}

const TABLE_CHUNK = Buffer.alloc(4096);

/**
 * How many connections wait in the listener's accept queue (a listening socket's
 * rx_queue); 0 when that cannot be known. Listening sockets come first in the table,
 * so a read stops at the line or past them: a short one, even with thousands of
 * connections open (python-backend's gunicorn.conf.py reads the table alike).
 */
function queuedConnections(listener) {
  if (listener === undefined) return 0;
  let fd;
  try {
    fd = openSync(listener.table, 'r');
    let rest = '';
    let fields;
    for (let read; (read = readSync(fd, TABLE_CHUNK, 0, TABLE_CHUNK.length, null)) > 0;) {
      const lines = (rest + TABLE_CHUNK.toString('latin1', 0, read)).split('\n');
      rest = lines.pop();
      for (const line of lines.slice(fields === undefined ? 1 : 0)) { // the first line names the columns
        fields = line.trim().split(/\s+/); // sl local remote st tx_queue:rx_queue tr:when retr uid timeout inode
        if (fields[3] !== '0A') return 0; // past the listening sockets (state 0A): it is gone
        if (fields[9] === listener.inode) return Number.parseInt(fields[4].split(':')[1], 16);
      }
    }
    return 0;
  } catch {
    return 0;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

start();
