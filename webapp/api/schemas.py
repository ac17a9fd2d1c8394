"""JSON shapes of the public API (/api/v1)."""

from marshmallow import Schema, fields, validate


class LeaveBehindSchema(Schema):
    title = fields.String()
    steps = fields.List(fields.String())


class PlaySchema(Schema):
    title = fields.String()
    goal = fields.String()
    channel = fields.String(attribute="channel_code")
    know = fields.String()
    use = fields.String()
    tell = fields.List(fields.String())
    leave_behind = fields.Nested(LeaveBehindSchema, allow_none=True)


class BarrierSchema(Schema):
    code = fields.String()
    name = fields.String()
    description = fields.String()
    category = fields.String(attribute="category_code")
    journey_stage = fields.String(attribute="journey_stage_code")
    adoption_stages = fields.List(fields.String())
    signals = fields.List(fields.String())
    primary_role = fields.String(attribute="primary_role_code")
    compliant_for = fields.List(fields.String())
    play = fields.Nested(PlaySchema, allow_none=True)


class BarrierQuerySchema(Schema):
    category = fields.String(load_default="", validate=validate.Length(max=40))
    journey_stage = fields.String(load_default="", validate=validate.Length(max=40))
    q = fields.String(load_default="", validate=validate.Length(max=200))
    cursor = fields.String(load_default="", validate=validate.Length(max=40))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class BarrierPageSchema(Schema):
    items = fields.List(fields.Nested(BarrierSchema))
    next = fields.String(allow_none=True)
