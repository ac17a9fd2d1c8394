"""JSON shapes of the public API (/api/v1)."""

from marshmallow import Schema, fields, validate


class LeaveBehindSchema(Schema):
    title = fields.String()
    steps = fields.List(fields.String())
    approval_code = fields.String()


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


class ErrorSchema(Schema):
    errors = fields.Dict(keys=fields.String(), values=fields.Raw())


class ObservationBatchSchema(Schema):
    """The sync envelope; each item is validated on its own by capture.ObservationSchema."""

    observations = fields.List(
        fields.Raw(),
        required=True,
        validate=validate.Length(min=1, max=500, error="Send between 1 and 500 observations."),
    )


class SyncResultSchema(Schema):
    id = fields.Raw(allow_none=True)
    status = fields.String(validate=validate.OneOf(["created", "duplicate", "rejected"]))
    errors = fields.Dict(keys=fields.String(), values=fields.Raw())


class SyncResponseSchema(Schema):
    results = fields.List(fields.Nested(SyncResultSchema))


class ObservationOutSchema(Schema):
    id = fields.String()
    hcp = fields.Function(lambda o: o.hcp.external_id)
    barriers = fields.Function(lambda o: [b.code for b in o.barriers])
    note = fields.String()
    observed_at = fields.DateTime()
    received_at = fields.DateTime()
    author = fields.Function(lambda o: o.author.email)
    author_role = fields.String()
    territory = fields.Function(lambda o: o.territory.code)
    brand = fields.Function(lambda o: o.brand.code if o.brand else None, allow_none=True)
    channel = fields.String(attribute="channel_code", allow_none=True)
    safety_flag = fields.Boolean()


class ObservationQuerySchema(Schema):
    since = fields.String(load_default="", validate=validate.Length(max=200))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class ObservationPageSchema(Schema):
    items = fields.List(fields.Nested(ObservationOutSchema))
    next = fields.String(allow_none=True)


class HCPSchema(Schema):
    external_id = fields.String()
    name = fields.String()
    specialty = fields.String()
    account = fields.String()
    segment = fields.String()
    territory = fields.Function(lambda h: h.territory.code)


class HCPQuerySchema(Schema):
    cursor = fields.String(load_default="", validate=validate.Length(max=64))
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=1000))


class HCPPageSchema(Schema):
    items = fields.List(fields.Nested(HCPSchema))
    next = fields.String(allow_none=True)


class MeSchema(Schema):
    email = fields.String()
    name = fields.String()
    role = fields.String()
    territory = fields.Function(lambda u: u.territory.code)
    can_capture = fields.Boolean()
    csrf_token = fields.String()


class BrandSchema(Schema):
    code = fields.String()
    name = fields.String()


class ReferenceSchema(Schema):
    """Display names for the library's codes, and the brands, for rendering on the device."""

    categories = fields.Dict(keys=fields.String(), values=fields.String())
    journey_stages = fields.Dict(keys=fields.String(), values=fields.String())
    roles = fields.Dict(keys=fields.String(), values=fields.String())
    channels = fields.Dict(keys=fields.String(), values=fields.String())
    brands = fields.List(fields.Nested(BrandSchema))
    note_rules = fields.Dict(keys=fields.String(), values=fields.Raw())


class SuggestionQuerySchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    hcp = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))


class SuggestionSchema(Schema):
    code = fields.String()
    name = fields.String()
    score = fields.Float()


class SuggestionsSchema(Schema):
    suggestions = fields.List(fields.Nested(SuggestionSchema))
