"""Error pages and JSON errors: a clear message for every failure, never a bare 500 page."""

from flask import Flask, jsonify, render_template, request
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


def wants_json() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        message = "Your form expired or came from another site. Reload the page and try again."
        if wants_json():
            return jsonify(errors={"csrf": [message]}), 400
        return render_template("error.html", code=400, message=message), 400

    @app.errorhandler(RateLimitExceeded)
    def too_many(error: RateLimitExceeded):
        """The API's limit (sign-in has its own answer): what the limit is, and when to retry."""
        if not wants_json():
            return http_error(error)
        response = jsonify(errors={"_request": [
            f"Too many requests: at most {error.description}. Wait a moment, then try again."]})
        response.headers["Retry-After"] = "60"
        return response, 429

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if wants_json():
            return jsonify(errors={"_request": [error.description]}), error.code
        return render_template("error.html", code=error.code, message=error.description), error.code
