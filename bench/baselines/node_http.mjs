// Node's bare http server: the floor of Node serving.
import { createServer } from 'node:http';

const BODY = '{"status":"pass"}';
const server = createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(BODY) });
  res.end(BODY);
});
server.keepAliveTimeout = 75_000;
server.listen(Number(process.env.PORT), process.env.HOST || '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
