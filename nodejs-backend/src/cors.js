// CORS as the contract states it, on top of the `cors` package.
import cors from 'cors';
import { isOriginAllowed } from './config.js';
import { CORS_EXPOSE, CORS_HEADERS, CORS_MAX_AGE, CORS_METHODS } from './headers.js';

const COMMON = {
  methods: [...CORS_METHODS],
  allowedHeaders: [...CORS_HEADERS],
  exposedHeaders: [...CORS_EXPOSE],
  maxAge: CORS_MAX_AGE,
  optionsSuccessStatus: 204,
};

/**
 * Middlewares for CORS_ORIGINS. `*` answers every origin with `*` and no
 * credentials. An allowlist echoes a matching Origin with credentials, sends
 * no CORS headers at all to any other origin, and always varies on Origin.
 * Every OPTIONS request, allowed or not, ends here as a 204 preflight.
 */
export function corsMiddleware(corsOrigins) {
  const handle = corsOrigins.any
    ? cors({ ...COMMON, origin: '*' })
    : cors((req, callback) => {
      // `origin: false` makes the package skip the request: no CORS headers.
      const allowed = isOriginAllowed(corsOrigins, req.headers.origin);
      callback(null, { ...COMMON, origin: allowed, credentials: allowed });
    });

  return [
    function varyOnOrigin(req, res, next) {
      if (!corsOrigins.any) res.vary('Origin');
      next();
    },
    handle,
    function endPreflight(req, res, next) {
      if (req.method !== 'OPTIONS') return next();
      res.status(204).set('Content-Length', '0').end();
    },
  ];
}
