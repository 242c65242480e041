"""One-route Flask app: what Flask costs without the service's middleware.

One view answers every GET path (so `/` and `/health` hit the same code) with a
small JSON body. Served by gunicorn with python-backend's own settings, and by
`flask run` (the development server many Space templates start).
"""

from flask import Flask

app = Flask(__name__)


@app.get("/", defaults={"path": ""})
@app.get("/<path:path>")
def status(path: str):
    return {"status": "pass"}
