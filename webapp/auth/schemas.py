from marshmallow import EXCLUDE, Schema, fields, validate


class LoginSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # the form also carries csrf_token

    email = fields.Email(required=True, error_messages={"required": "Enter your email."})
    password = fields.String(
        required=True,
        validate=validate.Length(min=1, max=1024),
        error_messages={"required": "Enter your password."},
    )
    next = fields.String(load_default="")
