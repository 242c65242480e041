// One-route Express 5 app: what Express costs without the service's middleware.
// express comes from nodejs-backend's node_modules (the same version the service runs).
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../nodejs-backend/package.json', import.meta.url));
const express = require('express');

const app = express();
app.get('/{*path}', (req, res) => {
  res.json({ status: 'pass' });
});
const server = app.listen(Number(process.env.PORT), process.env.HOST || '127.0.0.1');
server.keepAliveTimeout = 75_000;
process.on('SIGTERM', () => server.close(() => process.exit(0)));
