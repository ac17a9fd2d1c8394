from marshmallow import Schema, fields, validate


class LoginSchema(Schema):
    email = fields.Email(required=True, error_messages={"required": "Enter your email."})
    password = fields.String(
        required=True,
        validate=validate.Length(min=1, max=1024),
        error_messages={"required": "Enter your password."},
    )
    next = fields.String(load_default="")
