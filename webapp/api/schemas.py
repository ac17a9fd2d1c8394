"""JSON shapes of the public API (/api/v1)."""

from marshmallow import Schema, fields, validate

from ..fields import Text


class LeaveBehindSchema(Schema):
    title = Text()
    steps = fields.List(Text())
    approval_code = Text()


class PlaySchema(Schema):
    title = Text()
    goal = Text()
    channel = Text(attribute="channel_code")
    know = Text()
    use = Text()
    tell = fields.List(Text())
    leave_behind = fields.Nested(LeaveBehindSchema, allow_none=True)


class BarrierSchema(Schema):
    code = Text()
    name = Text()
    description = Text()
    category = Text(attribute="category_code")
    journey_stage = Text(attribute="journey_stage_code")
    adoption_stages = fields.List(Text())
    signals = fields.List(Text())
    primary_role = Text(attribute="primary_role_code")
    compliant_for = fields.List(Text())
    play = fields.Nested(PlaySchema, allow_none=True)


class BarrierQuerySchema(Schema):
    category = Text(load_default="", validate=validate.Length(max=40))
    journey_stage = Text(load_default="", validate=validate.Length(max=40))
    q = Text(load_default="", validate=validate.Length(max=200))
    cursor = Text(load_default="", validate=validate.Length(max=40))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class BarrierPageSchema(Schema):
    items = fields.List(fields.Nested(BarrierSchema))
    next = Text(allow_none=True)


class ErrorSchema(Schema):
    errors = fields.Dict(keys=Text(), values=fields.Raw())


class ObservationBatchSchema(Schema):
    """The sync envelope; each item is validated on its own by capture.ObservationSchema."""

    observations = fields.List(
        fields.Raw(),
        required=True,
        validate=validate.Length(min=1, max=500, error="Send between 1 and 500 observations."),
    )


class SyncResultSchema(Schema):
    id = fields.Raw(allow_none=True)
    status = Text(validate=validate.OneOf(["created", "duplicate", "rejected"]))
    errors = fields.Dict(keys=Text(), values=fields.Raw())


class SyncResponseSchema(Schema):
    results = fields.List(fields.Nested(SyncResultSchema))


class ObservationOutSchema(Schema):
    id = Text()
    hcp = fields.Function(lambda o: o.hcp.external_id)
    barriers = fields.Function(lambda o: [b.code for b in o.barriers])
    note = Text()
    observed_at = fields.DateTime()
    received_at = fields.DateTime()
    author = fields.Function(lambda o: o.author.email)
    author_role = Text()
    territory = fields.Function(lambda o: o.territory.code)
    brand = fields.Function(lambda o: o.brand.code if o.brand else None, allow_none=True)
    channel = Text(attribute="channel_code", allow_none=True)
    safety_flag = fields.Boolean()


class ObservationQuerySchema(Schema):
    since = Text(load_default="", validate=validate.Length(max=200))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class ObservationPageSchema(Schema):
    items = fields.List(fields.Nested(ObservationOutSchema))
    next = Text(allow_none=True)


class HCPSchema(Schema):
    external_id = Text()
    name = Text()
    specialty = Text()
    account = Text()
    segment = Text()
    territory = fields.Function(lambda h: h.territory.code)


class HCPQuerySchema(Schema):
    cursor = Text(load_default="", validate=validate.Length(max=64))
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=1000))


class HCPPageSchema(Schema):
    items = fields.List(fields.Nested(HCPSchema))
    next = Text(allow_none=True)


class MeSchema(Schema):
    email = Text()
    name = Text()
    role = Text()
    territory = fields.Function(lambda u: u.territory.code)
    can_capture = fields.Boolean()
    csrf_token = Text()


class BrandSchema(Schema):
    code = Text()
    name = Text()


class ReferenceSchema(Schema):
    """Display names for the library's codes, and the brands, for rendering on the device."""

    categories = fields.Dict(keys=Text(), values=Text())
    journey_stages = fields.Dict(keys=Text(), values=Text())
    roles = fields.Dict(keys=Text(), values=Text())
    channels = fields.Dict(keys=Text(), values=Text())
    adoption_stages = fields.List(fields.Nested(BrandSchema))  # code and name, ladder order
    brands = fields.List(fields.Nested(BrandSchema))
    note_rules = fields.Dict(keys=Text(), values=fields.Raw())


class SuggestionQuerySchema(Schema):
    text = Text(required=True, validate=validate.Length(min=1, max=1000))
    hcp = Text(load_default=None, allow_none=True, validate=validate.Length(max=64))


class SuggestionSchema(Schema):
    code = Text()
    name = Text()
    score = fields.Float()


class SuggestionsSchema(Schema):
    suggestions = fields.List(fields.Nested(SuggestionSchema))
