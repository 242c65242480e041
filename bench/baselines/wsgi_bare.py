"""A bare WSGI callable: the floor of Python serving on gunicorn."""

BODY = b'{"status":"pass"}'
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def app(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
