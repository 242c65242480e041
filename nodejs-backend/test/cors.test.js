import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import request from 'supertest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logs.js';

const makeApp = (CORS_ORIGINS) => createApp(
  loadConfig({ APP_ENV: 'test', CORS_ORIGINS }),
  { logger: createLogger({ level: 'silent' }) },
);

const PREFLIGHT = {
  'access-control-allow-methods': 'GET,HEAD,POST,OPTIONS',
  'access-control-allow-headers': 'Content-Type,Authorization,X-Request-ID',
  'access-control-max-age': '600',
};
const CORS_HEADERS = [
  'access-control-allow-origin', 'access-control-allow-credentials', 'access-control-expose-headers',
  ...Object.keys(PREFLIGHT),
];

const preflight = (app, path, origin) => {
  const req = request(app).options(path)
    .set('Access-Control-Request-Method', 'POST')
    .set('Access-Control-Request-Headers', 'content-type,x-request-id');
  return origin === undefined ? req : req.set('Origin', origin);
};

const varies = (res, header) => (res.headers.vary ?? '').split(/\s*,\s*/).includes(header);

function assertNoCors(res) {
  for (const header of CORS_HEADERS) assert.equal(res.headers[header], undefined, header);
}

describe('CORS_ORIGINS unset, empty or "*"', () => {
  for (const setting of [undefined, '', '*']) {
    it(`${JSON.stringify(setting)} allows any origin with "*" and no credentials`, async () => {
      const res = await request(makeApp(setting)).get('/').set('Origin', 'https://anywhere.example').expect(200);
      assert.equal(res.headers['access-control-allow-origin'], '*');
      assert.equal(res.headers['access-control-allow-credentials'], undefined);
      assert.equal(res.headers['access-control-expose-headers'], 'X-Request-ID');
    });
  }

  it('sends "*" without an Origin header too', async () => {
    const res = await request(makeApp('*')).get('/health').expect(200);
    assert.equal(res.headers['access-control-allow-origin'], '*');
  });

  it('answers a preflight on any path with 204 and the CORS headers', async () => {
    for (const path of ['/', '/echo', '/health', '/does-not-exist']) {
      const res = await preflight(makeApp('*'), path, 'https://anywhere.example').expect(204);
      assert.equal(res.headers['access-control-allow-origin'], '*');
      assert.equal(res.headers['access-control-allow-credentials'], undefined);
      for (const [header, value] of Object.entries(PREFLIGHT)) assert.equal(res.headers[header], value, header);
      assert.equal(res.text, '');
    }
  });
});

describe('CORS_ORIGINS as an allowlist', () => {
  const setting = 'https://app.example.com,https://*.hf.space,http://localhost:3000';

  it('echoes an allowed origin with credentials and Vary: Origin', async () => {
    for (const origin of ['https://app.example.com', 'https://owner-space.hf.space', 'http://localhost:3000']) {
      const res = await request(makeApp(setting)).get('/').set('Origin', origin).expect(200);
      assert.equal(res.headers['access-control-allow-origin'], origin);
      assert.equal(res.headers['access-control-allow-credentials'], 'true');
      assert.equal(res.headers['access-control-expose-headers'], 'X-Request-ID');
      assert.ok(varies(res, 'Origin'));
    }
  });

  it('sends no CORS headers to another origin, but still answers and varies on Origin', async () => {
    for (const origin of [
      'https://evil.example', 'null', 'https://hf.space', 'https://a.b.hf.space', 'http://a.hf.space',
      'https://a.hf.space:444', 'https://evil.hf.space.example.com', 'https://app.example.com.evil.example',
    ]) {
      const res = await request(makeApp(setting)).get('/health').set('Origin', origin).expect(200);
      assertNoCors(res);
      assert.ok(varies(res, 'Origin'), origin);
    }
  });

  it('varies on Origin when no Origin is sent', async () => {
    const res = await request(makeApp(setting)).get('/').expect(200);
    assertNoCors(res);
    assert.ok(varies(res, 'Origin'));
  });

  it('answers an allowed preflight with 204 and the CORS headers', async () => {
    const res = await preflight(makeApp(setting), '/echo', 'https://x.hf.space').expect(204);
    assert.equal(res.headers['access-control-allow-origin'], 'https://x.hf.space');
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    for (const [header, value] of Object.entries(PREFLIGHT)) assert.equal(res.headers[header], value, header);
    assert.ok(varies(res, 'Origin'));
    assert.ok(res.headers['x-request-id']);
  });

  it('answers a disallowed preflight with 204 and no CORS headers', async () => {
    for (const origin of ['https://evil.example', 'null', undefined]) {
      const res = await preflight(makeApp(setting), '/anything', origin).expect(204);
      assertNoCors(res);
      assert.ok(varies(res, 'Origin'));
    }
  });

  it('lets a disallowed origin use the API normally (the browser enforces CORS)', async () => {
    const res = await request(makeApp(setting)).post('/echo').set('Origin', 'https://evil.example').send({ a: 1 }).expect(200);
    assert.deepEqual(res.body.received, { a: 1 });
    assertNoCors(res);
  });

  it('keeps CORS headers on error responses for an allowed origin', async () => {
    const res = await request(makeApp(setting)).get('/nope').set('Origin', 'https://app.example.com').expect(404);
    assert.equal(res.headers['access-control-allow-origin'], 'https://app.example.com');
  });

  it('compares scheme and host case-insensitively', async () => {
    const res = await request(makeApp('HTTPS://App.Example.com')).get('/').set('Origin', 'https://APP.example.COM').expect(200);
    assert.equal(res.headers['access-control-allow-origin'], 'https://APP.example.COM');
  });
});
