// JSON bodies with an exact Content-Type. Express appends "; charset=utf-8" to
// string bodies and to types set through res.set()/res.type(); JSON has no
// charset parameter (RFC 8259), and python-backend sends none, so neither do we.
export function sendJson(res, body, type = 'application/json') {
  const payload = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  res.setHeader('Content-Type', type);
  res.send(payload);
}
