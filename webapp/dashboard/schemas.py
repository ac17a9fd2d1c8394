from marshmallow import Schema, fields, validate

from ..fields import Text


class DashboardFilterSchema(Schema):
    days = fields.Integer(load_default=28, validate=validate.Range(
        min=7, max=365, error="Choose a period between 7 and 365 days."),
        error_messages={"invalid": "Give the period in days."})
    brand = Text(load_default="", validate=validate.Length(max=40))
    territory = Text(load_default="", validate=validate.Length(max=40))
