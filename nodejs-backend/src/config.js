// Configuration: read once from the environment, validated, frozen.
// The rules and messages follow contract/openapi.yaml (info.description).
import { isIP, isIPv6 } from 'node:net';
import { authority } from './origin.js';

export class ConfigError extends Error {
  constructor(problems) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

// One DNS label (at most 63 characters); a `*.` in an origin stands for exactly one.
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*\\.?$`, 'i');
const ORIGIN = new RegExp(`^(https?)://(\\*\\.)?(${LABEL}(?:\\.${LABEL})*|\\[[0-9a-f:.]+\\])(?::(\\d{1,5}))?$`, 'i');

/** An integer made of plain digits within [min, max], else undefined. */
function parseInteger(raw, min, max) {
  if (!/^\d+$/.test(raw)) return undefined;
  const value = Number(raw);
  return value >= min && value <= max ? value : undefined;
}

function parseSeconds(raw, min, max) {
  if (!/^\d+(?:\.\d+)?$/.test(raw)) return undefined;
  const value = Number(raw);
  return value >= min && value <= max ? value : undefined;
}

function parseHost(raw) {
  return isIP(raw) || (raw.length <= 253 && HOST_NAME.test(raw)) ? raw : undefined;
}

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One origin entry as a lowercase exact string, or an anchored RegExp for `*.` hosts. */
function parseOrigin(entry) {
  const match = ORIGIN.exec(entry);
  if (!match) return undefined;
  const [, , wildcard, host, port] = match;
  if (host.startsWith('[') && (wildcard || !isIPv6(host.slice(1, -1)))) return undefined;
  if (port !== undefined && parseInteger(port, 1, 65535) === undefined) return undefined;
  const origin = entry.toLowerCase();
  if (!wildcard) return origin;
  const [head, tail] = origin.split('*');
  return new RegExp(`^${escapeRegExp(head)}${LABEL}${escapeRegExp(tail)}$`);
}

/** `*` (any origin) or a list of exact origins and wildcard patterns. */
function parseCorsOrigins(raw) {
  if (raw === '*') return Object.freeze({ any: true, origins: [], patterns: [] });
  const origins = [];
  const patterns = [];
  for (const entry of raw.split(',').map((part) => part.trim())) {
    const parsed = parseOrigin(entry);
    if (parsed === undefined) return undefined;
    if (typeof parsed === 'string') origins.push(parsed);
    else patterns.push(parsed);
  }
  return Object.freeze({
    any: false,
    origins: Object.freeze([...new Set(origins)]),
    patterns: Object.freeze(patterns),
  });
}

const oneOf = (choices) => (raw) => {
  const value = raw.toLowerCase();
  return choices.includes(value) ? value : undefined;
};

// In the order of the contract's table: problems are reported in this order.
const VARIABLES = [
  ['PORT', 'port', '7860', (raw) => parseInteger(raw, 1, 65535),
    'an integer from 1 to 65535'],
  ['HOST', 'host', '0.0.0.0', parseHost, 'an IP address or host name'],
  ['CORS_ORIGINS', 'corsOrigins', '*', parseCorsOrigins,
    '"*" or a comma-separated list of origins such as https://example.com or https://*.hf.space'],
  ['LOG_LEVEL', 'logLevel', 'info',
    oneOf(['debug', 'info', 'warning', 'error', 'critical']),
    'one of debug, info, warning, error, critical'],
  ['APP_ENV', 'appEnv', 'production', oneOf(['production', 'development', 'test']),
    'one of production, development, test'],
  ['WEB_CONCURRENCY', 'webConcurrency', '2', (raw) => parseInteger(raw, 1, 64),
    'an integer from 1 to 64'],
  ['MAX_BODY_BYTES', 'maxBodyBytes', '1048576', (raw) => parseInteger(raw, 1, 1073741824),
    'an integer from 1 to 1073741824'],
  ['SHUTDOWN_TIMEOUT', 'shutdownTimeout', '8', (raw) => parseSeconds(raw, 1, 300),
    'a number of seconds from 1 to 300'],
  ['REQUEST_TIMEOUT', 'requestTimeout', '60', (raw) => parseSeconds(raw, 1, 3600),
    'a number of seconds from 1 to 3600'],
  // Set by the platform (no default); it becomes the host of the links the service answers with.
  ['SPACE_HOST', 'spaceHost', null, (raw) => (raw === null || authority(raw) ? raw : undefined),
    'a host name or IP address with an optional port, such as owner-name.hf.space'],
];

/** A trimmed value, with empty meaning unset. */
function read(env, name) {
  const value = (env[name] ?? '').trim();
  return value === '' ? undefined : value;
}

/** JSON-quoted and ASCII-only, as Python's json.dumps writes it (the services print the same line). */
const quote = (value) => JSON.stringify(value)
  .replace(/[\u0080-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * Validate the environment and return a frozen config object.
 * @throws {ConfigError} naming every bad variable, in table order.
 */
export function loadConfig(env = process.env) {
  const config = {};
  const problems = [];
  for (const [name, key, fallback, parse, allowed] of VARIABLES) {
    const raw = read(env, name);
    const value = parse(raw ?? fallback);
    if (value === undefined) {
      problems.push(`${name}=${quote(raw)}: expected ${allowed}`);
    } else {
      config[key] = value;
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  // Set by the platform on a running Space; absent locally.
  const spaceId = env.SPACE_ID || null;
  const { spaceHost } = config;
  config.space = spaceId === null && spaceHost === null
    ? null
    : Object.freeze({
      id: spaceId,
      host: spaceHost,
      url: spaceHost === null ? null : `https://${spaceHost}`,
    });
  return Object.freeze(config);
}

/** Whether a request's Origin header is allowed by the parsed CORS_ORIGINS. */
export function isOriginAllowed(corsOrigins, origin) {
  if (corsOrigins.any) return true;
  if (typeof origin !== 'string') return false;
  const normalized = origin.toLowerCase();
  return corsOrigins.origins.includes(normalized)
    || corsOrigins.patterns.some((pattern) => pattern.test(normalized));
}
