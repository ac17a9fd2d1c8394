from flask import redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from marshmallow import ValidationError

from ..audit import record
from ..extensions import db
from ..htmx import render
from ..urls import local_path
from . import bp
from .schemas import LoginSchema
from .services import authenticate


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("index"))
        return render("auth/login.html", form={"next": request.args.get("next", "")}, errors={})
    form = request.form.to_dict()
    try:
        data = LoginSchema().load(form)
    except ValidationError as error:
        return render("auth/login.html", form=form, errors=error.messages, status=422)
    user = authenticate(data["email"], data["password"])
    if user is None:
        errors = {"_form": ["That email and password do not match an account."]}
        return render("auth/login.html", form=form, errors=errors, status=422)
    session.clear()  # a fresh session (and CSRF token) at every sign-in
    login_user(user)
    return redirect(local_path(data["next"], url_for("index")))


@bp.post("/logout")
@login_required
def logout():
    record("sign_out", actor=current_user, entity="user", entity_id=current_user.id)
    db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
