import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, isOriginAllowed, loadConfig } from '../src/config.js';

const ALLOWED = {
  PORT: 'an integer from 1 to 65535',
  HOST: 'an IP address or host name',
  CORS_ORIGINS: '"*" or a comma-separated list of origins such as https://example.com or https://*.hf.space',
  LOG_LEVEL: 'one of debug, info, warning, error, critical',
  APP_ENV: 'one of production, development, test',
  WEB_CONCURRENCY: 'an integer from 1 to 64',
  MAX_BODY_BYTES: 'an integer from 1 to 1073741824',
  SHUTDOWN_TIMEOUT: 'a number of seconds from 1 to 300',
  REQUEST_TIMEOUT: 'a number of seconds from 1 to 3600',
  SPACE_HOST: 'a host name or IP address with an optional port, such as owner-name.hf.space',
};

function errorFor(env) {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  it('uses the contract defaults when nothing is set', () => {
    const config = loadConfig({});
    assert.equal(config.port, 7860);
    assert.equal(config.host, '0.0.0.0');
    assert.deepEqual(config.corsOrigins, { any: true, origins: [], patterns: [] });
    assert.equal(config.logLevel, 'info');
    assert.equal(config.appEnv, 'production');
    assert.equal(config.webConcurrency, 2);
    assert.equal(config.maxBodyBytes, 1048576);
    assert.equal(config.shutdownTimeout, 8);
    assert.equal(config.requestTimeout, 60);
    assert.equal(config.spaceHost, null);
    assert.equal(config.space, null);
  });

  it('treats empty and blank values as unset', () => {
    const env = Object.fromEntries(Object.keys(ALLOWED).map((name) => [name, '']));
    assert.deepEqual(loadConfig(env), loadConfig({}));
    assert.equal(loadConfig({ PORT: '   ' }).port, 7860);
  });

  it('returns a frozen object', () => {
    const config = loadConfig({ CORS_ORIGINS: 'https://a.example' });
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.corsOrigins));
    assert.throws(() => { config.port = 1; }, TypeError);
  });

  it('reads the environment of the process by default', (t) => {
    const saved = process.env.PORT;
    t.after(() => {
      if (saved === undefined) delete process.env.PORT;
      else process.env.PORT = saved;
    });
    process.env.PORT = '4321';
    assert.equal(loadConfig().port, 4321);
  });
});

describe('loadConfig accepts good values', () => {
  const cases = [
    ['PORT', '1', 'port', 1],
    ['PORT', '65535', 'port', 65535],
    ['PORT', ' 8080 ', 'port', 8080],
    ['HOST', '127.0.0.1', 'host', '127.0.0.1'],
    ['HOST', '::', 'host', '::'],
    ['HOST', 'localhost', 'host', 'localhost'],
    ['HOST', 'my-host.example.com', 'host', 'my-host.example.com'],
    ['HOST', 'example.com.', 'host', 'example.com.'],
    ['LOG_LEVEL', 'debug', 'logLevel', 'debug'],
    ['LOG_LEVEL', 'WARNING', 'logLevel', 'warning'],
    ['LOG_LEVEL', 'Critical', 'logLevel', 'critical'],
    ['APP_ENV', 'development', 'appEnv', 'development'],
    ['APP_ENV', 'test', 'appEnv', 'test'],
    ['APP_ENV', 'Production', 'appEnv', 'production'],
    ['WEB_CONCURRENCY', '64', 'webConcurrency', 64],
    ['MAX_BODY_BYTES', '1073741824', 'maxBodyBytes', 1073741824],
    ['SHUTDOWN_TIMEOUT', '1', 'shutdownTimeout', 1],
    ['SHUTDOWN_TIMEOUT', '2.5', 'shutdownTimeout', 2.5],
    ['SHUTDOWN_TIMEOUT', '300', 'shutdownTimeout', 300],
    ['REQUEST_TIMEOUT', '1', 'requestTimeout', 1],
    ['REQUEST_TIMEOUT', '1.5', 'requestTimeout', 1.5],
    ['REQUEST_TIMEOUT', '3600', 'requestTimeout', 3600],
    ['SPACE_HOST', 'me-app.hf.space', 'spaceHost', 'me-app.hf.space'],
    ['SPACE_HOST', 'localhost:7860', 'spaceHost', 'localhost:7860'],
    ['SPACE_HOST', '[::1]:8080', 'spaceHost', '[::1]:8080'],
  ];
  for (const [name, value, key, expected] of cases) {
    it(`${name}=${JSON.stringify(value)} gives ${key} ${JSON.stringify(expected)}`, () => {
      assert.equal(loadConfig({ [name]: value })[key], expected);
    });
  }
});

describe('loadConfig rejects bad values with the contract message', () => {
  const cases = {
    PORT: ['abc', '0', '65536', '7860abc', '1e3', '-1', '80.0', '0x50', '78 60'],
    HOST: ['a b', 'http://x', 'host_name', '-bad.example', 'a..b', 'a-.example', `${'a'.repeat(64)}.example`],
    CORS_ORIGINS: [
      'example.com', 'https://example.com/', 'https://example.com/path', 'https://example.com?q=1',
      'ftp://example.com', '*,https://example.com', 'https://*', 'https://*.*.hf.space',
      'https://a.*.hf.space', 'https://example.com:0', 'https://example.com:65536', 'https://exa mple.com',
      'https://example.com,', 'null', 'https://[::1', 'https://*.[::1]', 'https://[not:ip]',
    ],
    LOG_LEVEL: ['verbose', 'warn', 'fatal', 'trace'],
    APP_ENV: ['prod', 'staging'],
    WEB_CONCURRENCY: ['0', '65', 'two', '1.5'],
    MAX_BODY_BYTES: ['0', '1073741825', '1e3', '1mb'],
    SHUTDOWN_TIMEOUT: ['0', '0.5', '301', '300.5', '-1', 'abc', '1e2', '1.', '.5'],
    REQUEST_TIMEOUT: ['0.5', '3601', '1m'],
    SPACE_HOST: ['https://me-app.hf.space', 'me-app.hf.space/x', 'a b'],
  };
  for (const [name, values] of Object.entries(cases)) {
    for (const value of values) {
      it(`${name}=${JSON.stringify(value)}`, () => {
        assert.equal(
          errorFor({ [name]: value }),
          `invalid configuration: ${name}=${JSON.stringify(value)}: expected ${ALLOWED[name]}`,
        );
      });
    }
  }

  it('shows the documented example exactly', () => {
    assert.equal(errorFor({ PORT: 'abc' }), 'invalid configuration: PORT="abc": expected an integer from 1 to 65535');
  });

  it('names every bad variable on one line, in table order', () => {
    const bad = {
      SPACE_HOST: 'a/b', REQUEST_TIMEOUT: '0', SHUTDOWN_TIMEOUT: '0', MAX_BODY_BYTES: 'x', WEB_CONCURRENCY: '0', APP_ENV: 'x',
      LOG_LEVEL: 'x', CORS_ORIGINS: 'x', HOST: 'a b', PORT: 'x',
    };
    const message = errorFor(bad);
    assert.ok(!message.includes('\n'));
    const expected = Object.keys(ALLOWED)
      .map((name) => `${name}=${JSON.stringify(bad[name])}: expected ${ALLOWED[name]}`)
      .join('; ');
    assert.equal(message, `invalid configuration: ${expected}`);
  });

  it('quotes the trimmed value, ASCII-only as Python json.dumps does', () => {
    assert.equal(errorFor({ PORT: '  abc\t' }), 'invalid configuration: PORT="abc": expected an integer from 1 to 65535');
    assert.equal(
      errorFor({ HOST: 'caf\u00e9 "x"' }),
      'invalid configuration: HOST="caf\\u00e9 \\"x\\"": expected an IP address or host name',
    );
  });

  it('only names the bad variables', () => {
    assert.equal(
      errorFor({ PORT: '8080', HOST: 'a b', APP_ENV: 'test', SHUTDOWN_TIMEOUT: '0' }),
      'invalid configuration: HOST="a b": expected an IP address or host name; '
        + 'SHUTDOWN_TIMEOUT="0": expected a number of seconds from 1 to 300',
    );
  });
});

describe('CORS_ORIGINS', () => {
  const allowed = (setting, origin) => isOriginAllowed(loadConfig({ CORS_ORIGINS: setting }).corsOrigins, origin);

  it('"*" allows any origin', () => {
    assert.equal(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins.any, true);
    assert.ok(allowed('*', 'https://anything.example'));
  });

  it('parses a list, trimming entries and lowercasing scheme and host', () => {
    const { corsOrigins } = loadConfig({ CORS_ORIGINS: ' HTTPS://Example.COM , http://localhost:3000,http://[::1]:8080 ' });
    assert.equal(corsOrigins.any, false);
    assert.deepEqual(corsOrigins.origins, ['https://example.com', 'http://localhost:3000', 'http://[::1]:8080']);
  });

  it('keeps ports as written, as python-backend does', () => {
    const { corsOrigins } = loadConfig({ CORS_ORIGINS: 'https://a.example:443,http://b.example:8080' });
    assert.deepEqual(corsOrigins.origins, ['https://a.example:443', 'http://b.example:8080']);
  });

  it('matches exact origins case-insensitively and nothing else', () => {
    const setting = 'https://example.com,http://localhost:3000';
    assert.ok(allowed(setting, 'https://example.com'));
    assert.ok(allowed(setting, 'HTTPS://EXAMPLE.COM'));
    assert.ok(allowed(setting, 'http://localhost:3000'));
    for (const origin of [
      'http://example.com', 'https://example.com:8443', 'https://sub.example.com', 'https://example.com.evil.example',
      'http://localhost', 'null', '', undefined,
    ]) {
      assert.equal(allowed(setting, origin), false, String(origin));
    }
  });

  it('a wildcard label matches exactly one DNS label', () => {
    const setting = 'https://*.hf.space';
    for (const origin of ['https://a-b.hf.space', 'https://a.hf.space', 'https://A-B.HF.SPACE', 'https://0.hf.space']) {
      assert.ok(allowed(setting, origin), origin);
    }
    for (const origin of [
      'https://hf.space', 'https://a.b.hf.space', 'http://a.hf.space', 'https://a.hf.space:444',
      'https://evil.hf.space.example.com', 'https://-a.hf.space', 'https://a-.hf.space', 'https://.hf.space',
      'https://a_b.hf.space', 'https://ahf.space', 'https://a.hfxspace', 'null',
    ]) {
      assert.equal(allowed(setting, origin), false, origin);
    }
  });

  it('a wildcard entry keeps its port', () => {
    const setting = 'http://*.localhost:3000';
    assert.ok(allowed(setting, 'http://app.localhost:3000'));
    assert.equal(allowed(setting, 'http://app.localhost'), false);
    assert.equal(allowed(setting, 'http://app.localhost:30000'), false);
  });
});

describe('SPACE_ID and SPACE_HOST', () => {
  it('give a space object when either is set', () => {
    assert.deepEqual(loadConfig({ SPACE_ID: 'owner/name', SPACE_HOST: 'owner-name.hf.space' }).space, {
      id: 'owner/name', host: 'owner-name.hf.space', url: 'https://owner-name.hf.space',
    });
    assert.deepEqual(loadConfig({ SPACE_ID: 'owner/name' }).space, { id: 'owner/name', host: null, url: null });
    assert.deepEqual(loadConfig({ SPACE_HOST: 'x.hf.space' }).space, { id: null, host: 'x.hf.space', url: 'https://x.hf.space' });
  });

  it('give null when both are unset or empty', () => {
    assert.equal(loadConfig({ SPACE_ID: '', SPACE_HOST: '' }).space, null);
    assert.equal(loadConfig({}).space, null);
  });
});
