"""Security headers for every response (a strict CSP with no inline script or style, HSTS),
and refusing NUL characters at the edge."""

from flask import Flask, abort, request

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# The app uses none of these device features; nothing it embeds or loads may ask for them.
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def init_app(app: Flask) -> None:
    @app.before_request
    def refuse_nul_characters():
        """No NUL in a query string or form: PostgreSQL cannot store one (a 400, never a 500)."""
        values = list(request.args.values()) + list(request.form.values())
        if any("\x00" in value for value in values):
            abort(400, "Text cannot contain NUL characters.")

    @app.after_request
    def set_security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors, for old browsers
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS)
        if request.is_secure or app.config.get("HSTS"):
            seconds = app.config.get("HSTS_SECONDS", 31536000)
            response.headers.setdefault(
                "Strict-Transport-Security", f"max-age={seconds}; includeSubDomains"
            )
        return response
