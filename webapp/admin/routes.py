from flask import Response, abort, flash, redirect, request, stream_with_context, url_for
from flask_login import current_user
from marshmallow import ValidationError

from ..audit import record
from ..auth.access import roles_required
from ..auth.services import revoke_token, sign_out_everywhere
from ..csv_export import csv_lines
from ..extensions import db
from ..htmx import render
from ..models import ADMIN_ROLES, ApiToken, utcnow
from . import bp
from .schemas import AuditFilterSchema, SignOutUserSchema, TokenFilterSchema
from .services import (
    EXPORT_HEADER,
    audit_actions,
    audit_page,
    export_rows,
    tokens_page,
    user_by_email,
)

FILTER_FIELDS = ("action", "actor", "entity", "entity_id", "since", "until")


def _parse(schema, source) -> tuple[dict, dict]:
    """The query string through the schema; bad fields are reported and left out, never fatal."""
    raw = {key: value for key, value in source.items() if key in schema.fields}
    errors = {}
    while True:  # schema-wide checks only run once the fields are valid: repeat until clean
        try:
            return schema.load(raw), errors
        except ValidationError as error:
            messages = error.normalized_messages()
            errors.update(messages)
            raw = {key: value for key, value in raw.items() if key not in messages}


def _query_of(filters: dict) -> dict:
    """The search as query arguments for links: no cursor, no blanks."""
    return {key: str(filters[key]) for key in FILTER_FIELDS if filters.get(key)}


@bp.get("/audit")
@roles_required(*ADMIN_ROLES)
def audit():
    filters, errors = _parse(AuditFilterSchema(), request.args)
    events, older = audit_page(filters)
    return render("admin/audit.html", block="results", status=422 if errors else 200,
                  events=events, older=older, filters=filters, errors=errors,
                  query=_query_of(filters), actions=audit_actions())


@bp.get("/audit.csv")
@roles_required(*ADMIN_ROLES)
def audit_export():
    """The matching events as CSV, streamed; the export is itself an audit event."""
    filters, errors = _parse(AuditFilterSchema(), request.args)
    if errors:
        return {"errors": errors}, 422
    filters.pop("before", None)  # an export is the whole search, not one page of it
    record("audit_exported", actor=current_user, entity="audit_event", filters=_query_of(filters))
    db.session.commit()
    name = f"clearpath-audit-{utcnow():%Y%m%d-%H%M}.csv"
    body = stream_with_context(csv_lines(EXPORT_HEADER, export_rows(filters)))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@bp.get("/tokens")
@roles_required(*ADMIN_ROLES)
def tokens():
    filters, errors = _parse(TokenFilterSchema(), request.args)
    found, older = tokens_page(filters["q"], filters.get("before"))
    return render("admin/tokens.html", block="results", status=422 if errors else 200,
                  tokens=found, older=older, q=filters["q"], errors=errors, form={})


@bp.post("/tokens/<int:token_id>/revoke")
@roles_required(*ADMIN_ROLES)
def revoke(token_id: int):
    api_token = db.session.get(ApiToken, token_id)
    if api_token is None:
        abort(404, "No such API token.")
    if revoke_token(current_user, api_token):
        flash(f"Token #{api_token.id} of {api_token.user.email} revoked.", "info")
    return redirect(url_for("admin.tokens", q=request.form.get("q") or None) + f"#token-{token_id}",
                    code=303)


@bp.post("/sign-out-everywhere")
@roles_required(*ADMIN_ROLES)
def sign_out_user():
    """End every session of a user (a lost tablet); their tokens too when asked."""
    form = request.form.to_dict()
    try:
        data = SignOutUserSchema().load(form)
        user = user_by_email(data["email"])
        if user is None:
            raise ValidationError("No user with this email.", "email")
    except ValidationError as error:
        found, older = tokens_page()
        return render("admin/tokens.html", status=422, tokens=found, older=older, q="",
                      errors=error.normalized_messages(), form=form)
    revoked = sign_out_everywhere(current_user, user, data["revoke_tokens"])
    flash(f"{user.email} is signed out on every device"
          + (f"; {revoked} API token{'s' if revoked != 1 else ''} revoked." if revoked else "."),
          "info")
    return redirect(url_for("admin.tokens"), code=303)
