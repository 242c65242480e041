import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import request from 'supertest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logs.js';
import { errorHandler } from '../src/problems.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const expressPkg = JSON.parse(readFileSync(new URL('../node_modules/express/package.json', import.meta.url), 'utf8'));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const CSP = "default-src 'none'; frame-ancestors 'self' https://huggingface.co";

/** An app with a silent logger, or one that collects its lines when `lines` is given. */
function makeApp(env = {}, lines) {
  const config = loadConfig({ APP_ENV: 'test', ...env });
  const destination = lines && { write: (line) => lines.push(JSON.parse(line)) };
  const logger = createLogger({ level: lines ? 'debug' : 'silent' }, destination);
  return createApp(config, { logger });
}

function assertProblem(res, status, path) {
  assert.equal(res.status, status);
  assert.equal(res.headers['content-type'], 'application/problem+json');
  assert.doesNotMatch(res.text, /<html|<pre|\bat .+\(.+:\d+:\d+\)/i);
  assert.deepEqual(Object.keys(res.body).sort(), ['detail', 'instance', 'request_id', 'status', 'title', 'type']);
  assert.equal(res.body.type, 'about:blank');
  assert.equal(res.body.status, status);
  assert.equal(typeof res.body.title, 'string');
  assert.ok(res.body.title.length > 0);
  assert.equal(typeof res.body.detail, 'string');
  assert.equal(res.body.instance, path);
  assert.equal(res.body.request_id, res.headers['x-request-id']);
}

/** Listen on an ephemeral port for tests that need raw control of the socket. */
async function listen(app) {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return server;
}

function rawRequest(port, { method = 'POST', path = '/echo', headers = {} }, writeBody) {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
    writeBody(req);
  });
}

describe('GET /', () => {
  it('answers the status document', async () => {
    const res = await request(makeApp()).get('/').set('Host', 'localhost:7860').expect(200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.deepEqual(Object.keys(res.body), [
      'service', 'status', 'version', 'environment', 'started_at', 'uptime_seconds', 'runtime', 'space', 'links',
    ]);
    assert.equal(res.body.service, 'nodejs-backend');
    assert.equal(res.body.status, 'ok');
    assert.equal(res.body.version, pkg.version);
    assert.equal(res.body.environment, 'test');
    assert.match(res.body.started_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    assert.ok(Date.parse(res.body.started_at) <= Date.now());
    assert.deepEqual(res.body.runtime, {
      language: 'node',
      language_version: process.versions.node,
      framework: 'express',
      framework_version: expressPkg.version,
    });
    assert.equal(res.body.space, null);
    assert.deepEqual(res.body.links, {
      health: 'http://localhost:7860/health',
      openapi: 'http://localhost:7860/openapi.json',
    });
  });

  it('gives uptime in seconds with at most 3 decimals', async () => {
    const { body } = await request(makeApp()).get('/').expect(200);
    assert.equal(typeof body.uptime_seconds, 'number');
    assert.ok(body.uptime_seconds >= 0);
    assert.equal(Math.round(body.uptime_seconds * 1000) / 1000, body.uptime_seconds);
  });

  it('describes the Space from SPACE_ID and SPACE_HOST', async () => {
    const app = makeApp({ SPACE_ID: 'owner/name', SPACE_HOST: 'owner-name.hf.space' });
    const { body } = await request(app).get('/').expect(200);
    assert.deepEqual(body.space, { id: 'owner/name', host: 'owner-name.hf.space', url: 'https://owner-name.hf.space' });
  });

  it('answers HEAD with 200 and no body', async () => {
    const res = await request(makeApp()).head('/').expect(200);
    assert.equal(res.text, undefined);
    assert.deepEqual(res.body, {});
    assert.equal(res.headers['content-type'], 'application/json');
  });
});

describe('GET /health', () => {
  it('passes while running', async () => {
    const res = await request(makeApp()).get('/health').expect(200);
    assert.equal(res.headers['content-type'], 'application/health+json');
    assert.equal(res.headers['cache-control'], 'no-store');
    const body = JSON.parse(res.text);
    assert.deepEqual(Object.keys(body), ['status', 'service', 'version', 'uptime_seconds']);
    assert.equal(body.status, 'pass');
    assert.equal(body.service, 'nodejs-backend');
    assert.equal(body.version, pkg.version);
    assert.equal(typeof body.uptime_seconds, 'number');
  });

  it('answers HEAD with 200 and no body', async () => {
    const res = await request(makeApp()).head('/health').expect(200);
    assert.equal(res.text, undefined);
  });

  it('fails with 503 once shutdown has begun, and asks to close the connection', async () => {
    const app = makeApp();
    app.locals.lifecycle.beginShutdown();
    const res = await request(app).get('/health').expect(503);
    assert.equal(res.headers['content-type'], 'application/health+json');
    assert.equal(JSON.parse(res.text).status, 'fail');
    assert.equal(res.headers.connection, 'close');
    await request(app).head('/health').expect(503);
    // Other endpoints keep working while in-flight work drains.
    const status = await request(app).get('/').expect(200);
    assert.equal(status.headers.connection, 'close');
  });
});

describe('GET /openapi.json', () => {
  it('serves the contract as JSON, byte for byte', async () => {
    const file = readFileSync(new URL('../src/openapi.json', import.meta.url), 'utf8');
    const res = await request(makeApp()).get('/openapi.json').expect(200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(res.text, file);
    assert.equal(res.body.openapi, '3.1.0');
    assert.ok(res.body.info && res.body.paths['/health']);
  });

  it('answers HEAD', async () => {
    await request(makeApp()).head('/openapi.json').expect(200);
  });
});

describe('POST /echo', () => {
  it('sends the parsed JSON back with the request id', async () => {
    const res = await request(makeApp()).post('/echo').set('X-Request-ID', 'echo-1').send({ a: [1, 'two', null] }).expect(200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.deepEqual(res.body, { received: { a: [1, 'two', null] }, request_id: 'echo-1' });
  });

  it('accepts any JSON value, not only objects', async () => {
    for (const value of ['"text"', '42', 'null', 'true', '[1,2]']) {
      const res = await request(makeApp()).post('/echo').set('Content-Type', 'application/json').send(value).expect(200);
      assert.deepEqual(res.body.received, JSON.parse(value));
    }
  });

  it('accepts +json media types and parameters', async () => {
    for (const type of ['application/merge-patch+json', 'application/vnd.api+json', 'APPLICATION/JSON; charset=utf-8']) {
      const res = await request(makeApp()).post('/echo').set('Content-Type', type).send('{"ok":true}').expect(200);
      assert.deepEqual(res.body.received, { ok: true }, type);
    }
  });

  it('answers 415 for a missing or non-JSON content type', async () => {
    const app = makeApp();
    assertProblem(await request(app).post('/echo').set('Content-Type', 'text/plain').send('{"a":1}'), 415, '/echo');
    assertProblem(await request(app).post('/echo').type('form').send('a=1'), 415, '/echo');
    assertProblem(await request(app).post('/echo').set('Content-Type', 'application/jsonx').send('{}'), 415, '/echo');
    assertProblem(await request(app).post('/echo').set('Content-Type', 'text/x+json').send('{}'), 415, '/echo');
    assertProblem(await request(app).post('/echo'), 415, '/echo');
  });

  it('answers 415 for a charset other than utf', async () => {
    const res = await request(makeApp()).post('/echo').set('Content-Type', 'application/json; charset=latin1').send('{}');
    assertProblem(res, 415, '/echo');
  });

  it('answers 400 for malformed JSON', async () => {
    for (const text of ['{', '{"a":}', "{'a':1}", 'undefined']) {
      const res = await request(makeApp()).post('/echo').set('Content-Type', 'application/json').send(text);
      assertProblem(res, 400, '/echo');
      assert.doesNotMatch(res.body.detail, /Unexpected|position/, 'no parser internals');
    }
  });

  it('answers 400 for an empty body', async () => {
    const app = makeApp();
    assertProblem(await request(app).post('/echo').set('Content-Type', 'application/json').send(''), 400, '/echo');
    assertProblem(await request(app).post('/echo').set('Content-Type', 'application/json'), 400, '/echo');
  });

  it('accepts a body of exactly MAX_BODY_BYTES', async () => {
    const body = JSON.stringify('x'.repeat(98)); // 100 bytes
    await request(makeApp({ MAX_BODY_BYTES: '100' })).post('/echo').set('Content-Type', 'application/json').send(body).expect(200);
  });

  it('answers 413 from Content-Length before reading the body', async () => {
    const server = await listen(makeApp({ MAX_BODY_BYTES: '100' }));
    try {
      // Only the headers are sent: a 413 must come back without waiting for the body.
      const res = await rawRequest(server.address().port, {
        headers: { 'Content-Type': 'application/json', 'Content-Length': '1000000' },
      }, (req) => req.flushHeaders());
      assert.equal(res.status, 413);
      assert.equal(res.headers['content-type'], 'application/problem+json');
      assert.equal(res.headers.connection, 'close');
      assert.equal(JSON.parse(res.text).instance, '/echo');
    } finally {
      server.close();
    }
  });

  it('answers 413 from Content-Length on any path, before routing', async () => {
    const res = await request(makeApp({ MAX_BODY_BYTES: '10' })).post('/nowhere').set('Content-Type', 'text/plain').send('x'.repeat(11));
    assertProblem(res, 413, '/nowhere');
  });

  it('answers 413 for a chunked body that grows past the limit', async () => {
    const server = await listen(makeApp({ MAX_BODY_BYTES: '100' }));
    try {
      const res = await rawRequest(server.address().port, {
        headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      }, (req) => {
        req.write('["');
        req.write('x'.repeat(200));
        req.end('"]');
      });
      assert.equal(res.status, 413);
      assert.equal(res.headers['content-type'], 'application/problem+json');
      const body = JSON.parse(res.text);
      assert.equal(body.status, 413);
      assert.equal(body.title, 'Request Entity Too Large');
      assert.equal(body.detail, 'The request body exceeds the limit of 100 bytes.');
    } finally {
      server.close();
    }
  });
});

describe('errors', () => {
  it('answers 404 as a problem for unknown paths', async () => {
    const app = makeApp();
    assertProblem(await request(app).get('/nope'), 404, '/nope');
    assertProblem(await request(app).post('/nope/deeper').send({}), 404, '/nope/deeper');
    assertProblem(await request(app).get('/HEALTH'), 404, '/HEALTH');
    assertProblem(await request(app).get('/health/'), 404, '/health/');
  });

  it('answers 405 with Allow for a known path and a wrong method', async () => {
    const app = makeApp();
    const cases = [
      ['post', '/', 'GET, HEAD, OPTIONS'],
      ['delete', '/', 'GET, HEAD, OPTIONS'],
      ['put', '/health', 'GET, HEAD, OPTIONS'],
      ['patch', '/openapi.json', 'GET, HEAD, OPTIONS'],
      ['get', '/echo', 'POST, OPTIONS'],
      ['put', '/echo', 'POST, OPTIONS'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await request(app)[method](path);
      assertProblem(res, 405, path);
      assert.equal(res.headers.allow, allow, `${method} ${path}`);
    }
    const head = await request(app).head('/echo').expect(405);
    assert.equal(head.headers.allow, 'POST, OPTIONS');
  });

  it('answers 500 without a stack and logs the error with its stack', async () => {
    const lines = [];
    const logger = createLogger({ level: 'info' }, { write: (line) => lines.push(JSON.parse(line)) });
    const app = express()
      .get('/boom', async () => { throw new Error('kaboom'); })
      .use(errorHandler({ logger, appEnv: 'production', maxBodyBytes: 1 }));
    const res = await request(app).get('/boom').expect(500);
    assert.equal(res.headers['content-type'], 'application/problem+json');
    assert.equal(res.body.title, 'Internal Server Error');
    assert.equal(res.body.stack, undefined);
    assert.doesNotMatch(res.text, /kaboom/);
    const logged = lines.find((line) => line.msg === 'unhandled error');
    assert.equal(logged.level, 'error');
    assert.match(logged.err.stack, /kaboom/);
  });

  it('adds the stack to a 500 only in development', async () => {
    const logger = createLogger({ level: 'silent' });
    const app = express()
      .get('/boom', () => { throw new Error('kaboom'); })
      .use(errorHandler({ logger, appEnv: 'development', maxBodyBytes: 1 }));
    const res = await request(app).get('/boom').expect(500);
    assert.match(res.body.stack, /kaboom/);
  });
});

describe('X-Request-ID', () => {
  it('is echoed when well formed', async () => {
    const id = `Ab0._:-${'x'.repeat(121)}`; // 128 characters
    const res = await request(makeApp()).get('/').set('X-Request-ID', id).expect(200);
    assert.equal(res.headers['x-request-id'], id);
  });

  it('is replaced by a new UUID when malformed', async () => {
    for (const id of ['has space', 'x'.repeat(129), 'semi;colon', 'slash/', 'caf\u00e9', '"quoted"']) {
      const res = await request(makeApp()).get('/').set('X-Request-ID', id).expect(200);
      assert.match(res.headers['x-request-id'], UUID, id);
    }
  });

  it('is generated when absent, fresh for each request', async () => {
    const app = makeApp();
    const a = await request(app).get('/');
    const b = await request(app).get('/');
    assert.match(a.headers['x-request-id'], UUID);
    assert.notEqual(a.headers['x-request-id'], b.headers['x-request-id']);
  });

  it('is set on errors and preflights too', async () => {
    const app = makeApp();
    for (const res of [
      await request(app).get('/nope').set('X-Request-ID', 'r-404'),
      await request(app).delete('/').set('X-Request-ID', 'r-405'),
      await request(app).options('/echo').set('X-Request-ID', 'r-204'),
      await request(app).post('/echo').set('X-Request-ID', 'r-415').send('x'),
    ]) {
      assert.match(res.headers['x-request-id'], /^r-\d{3}$/);
      assert.equal(res.headers['x-request-id'].slice(2), String(res.status));
    }
  });
});

describe('security headers', () => {
  for (const [method, path] of [['get', '/'], ['get', '/health'], ['get', '/nope'], ['options', '/'], ['delete', '/echo']]) {
    it(`are set on ${method.toUpperCase()} ${path}`, async () => {
      const res = await request(makeApp())[method](path);
      assert.equal(res.headers['content-security-policy'], CSP);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
      assert.equal(res.headers['cross-origin-resource-policy'], 'cross-origin');
      for (const absent of [
        'x-frame-options', 'x-powered-by', 'server', 'strict-transport-security',
        'cross-origin-opener-policy', 'cross-origin-embedder-policy',
      ]) {
        assert.equal(res.headers[absent], undefined, absent);
      }
    });
  }
});

describe('behind the proxy (one trusted hop)', () => {
  it('builds links with the forwarded scheme', async () => {
    const res = await request(makeApp()).get('/')
      .set('Host', 'owner-name.hf.space')
      .set('X-Forwarded-Proto', 'https')
      .expect(200);
    assert.deepEqual(res.body.links, {
      health: 'https://owner-name.hf.space/health',
      openapi: 'https://owner-name.hf.space/openapi.json',
    });
  });

  for (const proto of ['javascript', 'ftp', 'https:', 'http, javascript']) {
    it(`ignores a forwarded scheme other than http or https: ${JSON.stringify(proto)}`, async () => {
      const res = await request(makeApp()).get('/').set('Host', 'localhost').set('X-Forwarded-Proto', proto).expect(200);
      assert.equal(res.body.links.health, 'http://localhost/health');
    });
  }

  it('takes the last forwarded scheme, the trusted hop\'s', async () => {
    const res = await request(makeApp()).get('/').set('Host', 'localhost').set('X-Forwarded-Proto', 'javascript, https');
    assert.equal(res.body.links.health, 'https://localhost/health');
  });

  it('builds links from SPACE_HOST whatever the request says', async () => {
    const res = await request(makeApp({ SPACE_HOST: 'me-app.hf.space' })).get('/')
      .set('Host', 'evil.example')
      .set('X-Forwarded-Proto', 'http')
      .expect(200);
    assert.deepEqual(res.body.links, {
      health: 'https://me-app.hf.space/health',
      openapi: 'https://me-app.hf.space/openapi.json',
    });
  });

  it('takes a valid Host, lowercased', async () => {
    const res = await request(makeApp()).get('/').set('Host', 'Example.COM:8080').expect(200);
    assert.equal(res.body.links.openapi, 'http://example.com:8080/openapi.json');
  });

  for (const host of ['evil.example/x?y#', 'a b', '', 'user@host', '[::1', '[zz::1]', 'host:0', 'host:65536', 'host:',
    'a:1:2', 'h%zz']) {
    it(`refuses an invalid Host with 400: ${JSON.stringify(host)}`, async () => {
      const res = await request(makeApp()).get('/health').set('Host', host);
      assertProblem(res, 400, '/health');
      assert.equal(res.body.detail, 'The Host header is not a valid host[:port].');
    });
  }

  it('logs the last X-Forwarded-For entry as the client', async () => {
    const lines = [];
    await request(makeApp({}, lines)).get('/health').set('X-Forwarded-For', '203.0.113.9, 198.51.100.7').expect(200);
    assert.equal(lines.find((line) => line.msg === 'request').client, '198.51.100.7');
  });
});

describe('request log', () => {
  it('writes one JSON line per request with the contract fields', async () => {
    const lines = [];
    await request(makeApp({}, lines)).get('/nope?token=secret')
      .set('X-Request-ID', 'log-1')
      .set('Authorization', 'Bearer hunter2')
      .set('Cookie', 'session=hunter3')
      .expect(404);
    const requests = lines.filter((line) => line.msg === 'request');
    assert.equal(requests.length, 1);
    const [line] = requests;
    assert.equal(line.level, 'info');
    assert.equal(line.service, 'nodejs-backend');
    assert.match(line.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    assert.equal(line.request_id, 'log-1');
    assert.equal(line.method, 'GET');
    assert.equal(line.path, '/nope');
    assert.equal(line.status, 404);
    assert.equal(typeof line.duration_ms, 'number');
    assert.equal(Math.round(line.duration_ms * 1000) / 1000, line.duration_ms);
    assert.equal(typeof line.client, 'string');
    assert.equal(line.pid, undefined);
    assert.equal(line.hostname, undefined);
    assert.doesNotMatch(JSON.stringify(lines), /hunter|secret/);
  });

  it('names levels as the Python service does', () => {
    const lines = [];
    const logger = createLogger({ level: 'debug' }, { write: (line) => lines.push(JSON.parse(line)) });
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    logger.fatal('f');
    assert.deepEqual(lines.map((line) => line.level), ['debug', 'info', 'warning', 'error', 'critical']);
  });

  it('honours LOG_LEVEL names', () => {
    const lines = [];
    const logger = createLogger({ level: 'warning' }, { write: (line) => lines.push(JSON.parse(line)) });
    logger.info('hidden');
    logger.warn('shown');
    assert.deepEqual(lines.map((line) => line.msg), ['shown']);
    assert.equal(createLogger({ level: 'critical' }, { write() {} }).level, 'fatal');
  });
});

describe('a listening app', () => {
  let server;
  before(async () => { server = await listen(makeApp()); });
  after(() => server.close());

  it('keeps connections alive until shutdown begins', async () => {
    const res = await rawRequest(server.address().port, { method: 'GET', path: '/health' }, (req) => req.end());
    assert.equal(res.status, 200);
    assert.notEqual(res.headers.connection, 'close');
  });
});

describe('JSON bodies held to RFC 8259 and the contract limits (python-backend reads alike)', () => {
  const post = (app, body, type = 'application/json') => request(app).post('/echo').set('Content-Type', type).send(body);

  it('answers 400 for non-JSON numbers, numbers out of range and trailing text', async () => {
    const app = makeApp();
    for (const text of ['NaN', '-Infinity', '[Infinity]', '1e999999', '9'.repeat(400), '[1] x', '   ']) {
      assertProblem(await post(app, text), 400, '/echo');
    }
  });

  it('accepts 100 levels of nesting and refuses more with a 400 naming the limit', async () => {
    const app = makeApp();
    await post(app, '['.repeat(100) + ']'.repeat(100)).expect(200);
    for (const depth of [101, 4114, 100_000]) {
      const res = await post(makeApp({ MAX_BODY_BYTES: '1048576' }), '['.repeat(depth) + ']'.repeat(depth));
      assertProblem(res, 400, '/echo');
      assert.match(res.body.detail, /100 levels/);
    }
  });

  it('answers 400 for a body that is not UTF-8, and ignores a byte order mark', async () => {
    const server = await listen(makeApp());
    const send = (bytes) => rawRequest(server.address().port, {
      headers: { 'Content-Type': 'application/json', 'Content-Length': bytes.length },
    }, (req) => req.end(bytes));
    try {
      const invalid = await send(Buffer.from([0x22, 0xff, 0x22]));
      assert.equal(invalid.status, 400);
      assert.equal(JSON.parse(invalid.text).detail, 'The request body is not valid UTF-8.');
      assert.equal((await send(Buffer.from('[1]', 'utf16le'))).status, 400);
      const res = await send(Buffer.from([0xef, 0xbb, 0xbf, 0x5b, 0x31, 0x5d]));
      assert.deepEqual(JSON.parse(res.text).received, [1]);
    } finally {
      server.close();
    }
  });

  it('answers 415 for a content encoding', async () => {
    const res = await request(makeApp()).post('/echo').set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip').send('[1]');
    assertProblem(res, 415, '/echo');
  });

  it('stops reading a chunked body at the limit: 413 and the connection closes', async () => {
    const server = await listen(makeApp({ MAX_BODY_BYTES: '100' }));
    try {
      const res = await rawRequest(server.address().port, {
        headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      }, (req) => {
        req.on('error', () => {}); // the server stops reading: the rest may fail to send
        req.write('["');
        req.write('x'.repeat(200)); // never ended: the answer must not wait for the end
      });
      assert.equal(res.status, 413);
      assert.equal(res.headers.connection, 'close');
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });
});
