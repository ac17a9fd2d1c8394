from flask import Response, jsonify, render_template

from . import bp
from .services import manifest as build_manifest
from .services import service_worker_source


@bp.get("/sw.js")
def service_worker():
    """The service worker, at the root so its scope is the whole app; never cached by HTTP."""
    response = Response(service_worker_source(), mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    response = jsonify(build_manifest())
    response.mimetype = "application/manifest+json"
    return response


# The shells below are public on purpose: the service worker precaches them at install,
# perhaps before sign-in. They carry no user data; app.js fills them on the device.
@bp.get("/offline")
def offline():
    return render_template("pwa/offline.html")


@bp.get("/offline/capture")
def offline_capture():
    return render_template("capture/offline.html")


@bp.get("/outbox")
def outbox():
    return render_template("pwa/outbox.html")


@bp.get("/offline/leave-behind")
def offline_leave_behind():
    return render_template("pwa/leave_behind.html")
