// Drives the real `node src/server.js` process: configuration errors and
// graceful shutdown, which no in-process test can show.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function freePort() {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Start the server with only the given variables (plus PATH) in its environment. */
function start(env, root = ROOT) {
  const child = spawn(process.execPath, [join(root, 'src', 'server.js')], {
    env: { PATH: process.env.PATH, APP_ENV: 'test', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  const waiters = [];
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text);
    lines.push(line);
    for (const waiter of waiters.filter((w) => w.msg === line.msg)) waiter.resolve(line);
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
  const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal, stderr, lines }));
  /** Resolves with the first log line whose msg is `msg`. */
  const logged = (msg) => {
    const seen = lines.find((line) => line.msg === msg);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      waiters.push({ msg, resolve });
      exited.then(() => reject(new Error(`exited before logging ${msg}`)));
    });
  };
  return { child, exited, logged };
}

function refused(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => { socket.destroy(); resolve(false); });
    socket.on('error', (err) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/**
 * A POST /echo whose body arrives in two parts. `Expect: 100-continue` makes
 * the server confirm it has the request in hand before the first part is sent.
 */
async function slowEcho(port, body) {
  const req = httpRequest({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/echo',
    headers: {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      Expect: '100-continue',
    },
  });
  const response = new Promise((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
      res.on('error', reject);
    });
  });
  req.flushHeaders();
  await once(req, 'continue');
  const half = Math.floor(body.length / 2);
  await new Promise((resolve) => req.write(body.slice(0, half), resolve));
  return { req, response, finish: () => req.end(body.slice(half)) };
}

describe('node src/server.js', () => {
  it('exits 78 with one line on stderr for a bad PORT', async () => {
    const { code, stderr, lines } = await start({ PORT: 'abc' }).exited;
    assert.equal(code, 78);
    assert.equal(stderr, 'invalid configuration: PORT="abc": expected an integer from 1 to 65535\n');
    assert.deepEqual(lines, []);
  });

  it('names every bad variable and never binds', async () => {
    const port = await freePort();
    const { code, stderr } = await start({ PORT: String(port), LOG_LEVEL: 'loud', SHUTDOWN_TIMEOUT: '0' }).exited;
    assert.equal(code, 78);
    assert.equal(stderr, 'invalid configuration: LOG_LEVEL="loud": expected one of debug, info, warning, error, critical; '
      + 'SHUTDOWN_TIMEOUT="0": expected a number of seconds from 1 to 300\n');
    assert.ok(await refused(port));
  });

  it('reads .env beside src/, and real variables win over it', async () => {
    // A copy of the service, so no developer's own .env is touched.
    const root = mkdtempSync(join(tmpdir(), 'nodejs-backend-'));
    try {
      cpSync(join(ROOT, 'src'), join(root, 'src'), { recursive: true });
      cpSync(join(ROOT, 'package.json'), join(root, 'package.json'));
      symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
      const envPort = await freePort();
      let realPort;
      do realPort = await freePort(); while (realPort === envPort);
      writeFileSync(join(root, '.env'), `PORT=${envPort}\nSPACE_ID=from/dotenv\n`);

      const server = start({ PORT: String(realPort) }, root);
      try {
        assert.equal((await server.logged('listening')).port, realPort);
        const body = await (await fetch(`http://127.0.0.1:${realPort}/`)).json();
        assert.equal(body.space.id, 'from/dotenv');
      } finally {
        server.child.kill('SIGTERM');
      }
      assert.equal((await server.exited).code, 0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('logs a JSON listening line and answers /health', async () => {
    const port = await freePort();
    const server = start({ PORT: String(port) });
    try {
      const listening = await server.logged('listening');
      assert.equal(listening.level, 'info');
      assert.equal(listening.service, 'nodejs-backend');
      assert.equal(listening.port, port);
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      assert.equal(res.status, 200);
      assert.equal((await res.json()).status, 'pass');
      const logged = await server.logged('request');
      assert.equal(logged.path, '/health');
    } finally {
      server.child.kill('SIGTERM');
    }
    const { code } = await server.exited;
    assert.equal(code, 0);
  });

  it('on SIGTERM stops accepting, finishes the request in flight, then exits 0', async () => {
    const port = await freePort();
    const server = start({ PORT: String(port), SHUTDOWN_TIMEOUT: '10' });
    await server.logged('listening');

    const body = JSON.stringify({ message: 'x'.repeat(1000) });
    const slow = await slowEcho(port, body);
    server.child.kill('SIGTERM');
    await server.logged('shutting down');
    assert.ok(await refused(port), 'no new connections once shutdown has begun');

    slow.finish();
    const res = await slow.response;
    assert.equal(res.status, 200);
    assert.equal(res.headers.connection, 'close');
    assert.deepEqual(JSON.parse(res.text).received, JSON.parse(body));

    const { code, signal } = await server.exited;
    assert.equal(signal, null);
    assert.equal(code, 0);
  });

  it('cuts what is still open at SHUTDOWN_TIMEOUT and exits 1', async () => {
    const port = await freePort();
    const server = start({ PORT: String(port), SHUTDOWN_TIMEOUT: '1' });
    await server.logged('listening');
    const slow = await slowEcho(port, JSON.stringify({ never: 'finished' }));
    slow.response.catch(() => {}); // the connection is cut: expected

    const signalledAt = performance.now();
    server.child.kill('SIGTERM');
    const { code } = await server.exited;
    const seconds = (performance.now() - signalledAt) / 1000;
    assert.equal(code, 1);
    assert.ok(seconds >= 0.9 && seconds < 2, `exited after ${seconds.toFixed(3)} s`);
    await assert.rejects(slow.response);
  });

  it('exits at once on a second signal', async () => {
    const port = await freePort();
    const server = start({ PORT: String(port), SHUTDOWN_TIMEOUT: '30' });
    await server.logged('listening');
    const slow = await slowEcho(port, JSON.stringify({ never: 'finished' }));
    slow.response.catch(() => {});

    server.child.kill('SIGTERM');
    await server.logged('shutting down');
    const signalledAt = performance.now();
    server.child.kill('SIGINT');
    const { code } = await server.exited;
    assert.equal(code, 1);
    assert.ok(performance.now() - signalledAt < 1000);
  });
});
