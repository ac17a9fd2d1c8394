from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..fields import Text
from ..pagination import decode_cursor


class FeedFilterSchema(Schema):
    territory = Text(load_default="", validate=validate.Length(max=40))
    category = Text(load_default="", validate=validate.Length(max=40))
    brand = Text(load_default="", validate=validate.Length(max=40))
    role = Text(load_default="", validate=validate.Length(max=40))
    journey_stage = Text(load_default="", validate=validate.Length(max=40))
    barrier = Text(load_default="", validate=validate.Length(max=40))
    q = Text(load_default="", validate=validate.Length(max=100, error="Search at most 100 characters."))
    safety = fields.Boolean(load_default=False, truthy={"1", "on", "true"}, falsy={"", "0", "off", "false"})
    with_note = fields.Boolean(load_default=False, truthy={"1", "on", "true"},
                               falsy={"", "0", "off", "false"})
    date_from = fields.Date(load_default=None, error_messages={"invalid": "Use a date like 2026-11-01."})
    date_to = fields.Date(load_default=None, error_messages={"invalid": "Use a date like 2026-11-30."})
    before = Text(load_default="")
    after = Text(load_default="")

    @validates_schema
    def _check(self, data, **kwargs):
        if data["date_from"] and data["date_to"] and data["date_from"] > data["date_to"]:
            raise ValidationError("The start date is after the end date.", "date_to")
        for key in ("before", "after"):
            if data[key] and decode_cursor(data[key]) is None:
                raise ValidationError("This page link is no longer valid.", key)
