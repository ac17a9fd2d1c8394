"""Error pages and JSON errors: a clear message for every failure, never a bare 500 page."""

from flask import Flask, jsonify, render_template, request
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

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if wants_json():
            return jsonify(errors={"_request": [error.description]}), error.code
        return render_template("error.html", code=error.code, message=error.description), error.code
