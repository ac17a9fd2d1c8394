from marshmallow import EXCLUDE, Schema, fields, validate

from ..fields import Text
from ..models import LEAVE_BEHIND_USES, OUTCOMES


class PlayRunSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # csrf_token

    ran_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                  error_messages={"invalid": "Give a date and time with its offset."})
    channel = Text(load_default=None, allow_none=True, validate=validate.Length(max=40))
    leave_behind = Text(load_default="none", validate=validate.OneOf(LEAVE_BEHIND_USES))


class OutcomeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    outcome = Text(required=True, validate=validate.OneOf(OUTCOMES))


class ReturnSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    reason = Text(required=True, validate=validate.Length(min=1, max=500,
                  error="Say why you are sending it back (up to 500 characters)."))
