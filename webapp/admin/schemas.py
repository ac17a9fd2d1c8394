"""The admin pages' query strings and forms."""

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from ..fields import Text
from .services import decode_audit_cursor

DATE_ERROR = {"invalid": "Use a date like 2026-11-30."}


def _without_blanks(data) -> dict:
    return {key: value for key, value in data.items() if value != ""}


class AuditFilterSchema(Schema):
    """Search the audit trail: each field narrows it, blank fields do not."""

    class Meta:
        unknown = EXCLUDE

    action = Text(load_default="", validate=validate.Length(max=60))
    actor = Text(load_default="", validate=validate.Length(
        max=254, error="Search at most 254 characters of an email."))
    entity = Text(load_default="", validate=validate.Length(max=60))
    entity_id = Text(load_default="", validate=validate.Length(max=64))
    since = fields.Date(load_default=None, error_messages=DATE_ERROR)
    until = fields.Date(load_default=None, error_messages=DATE_ERROR)
    before = Text(load_default="")

    @pre_load
    def _blanks(self, data, **kwargs):
        return _without_blanks(data)

    @validates_schema
    def _check(self, data, **kwargs):
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise ValidationError("The start date is after the end date.", "until")
        if data.get("before") and decode_audit_cursor(data["before"]) is None:
            raise ValidationError("This page link is no longer valid.", "before")


class TokenFilterSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    q = Text(load_default="", validate=validate.Length(max=254))
    before = fields.Integer(load_default=None, strict=False, validate=validate.Range(min=1, max=2**31 - 1),
                            error_messages={"invalid": "This page link is no longer valid."})

    @pre_load
    def _blanks(self, data, **kwargs):
        return _without_blanks(data)


class SignOutUserSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    email = Text(required=True, validate=validate.Length(min=1, max=254),
                 error_messages={"required": "Give the email of the user to sign out."})
    revoke_tokens = fields.Boolean(load_default=False)
