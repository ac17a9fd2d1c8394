from marshmallow import EXCLUDE, Schema, fields, validate

from ..fields import Text


class LoginSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # the form also carries csrf_token

    email = fields.Email(required=True, error_messages={"required": "Enter your email."})
    password = Text(
        required=True,
        validate=validate.Length(min=1, max=1024),
        error_messages={"required": "Enter your password."},
    )
    next = Text(load_default="")


class NewTokenSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    label = Text(load_default="", validate=validate.Length(
        max=80, error="Keep the name under 80 characters."))


class SignOutEverywhereSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    revoke_tokens = fields.Boolean(load_default=False)
