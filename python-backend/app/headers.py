"""The headers and media types of the contract: the one place each is written.

Every response carries SECURITY_HEADERS and X-Request-ID (middleware.py for the
app's answers, problems.raw_problem for the ones gunicorn sends itself); CORS
answers use the fixed lists below (cors.py).
"""

from __future__ import annotations

REQUEST_ID = "X-Request-ID"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "cross-origin",
    # Embeddable in the Space page on huggingface.co ('self' is the Space's own origin).
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'self' https://huggingface.co",
}

CORS_METHODS = ("GET", "HEAD", "POST", "OPTIONS")
CORS_HEADERS = ("Content-Type", "Authorization", REQUEST_ID)
CORS_EXPOSE = (REQUEST_ID,)
CORS_MAX_AGE = 600

PROBLEM_JSON = "application/problem+json"
HEALTH_JSON = "application/health+json"
