"""The one shape of an observation, for the form, the API and the offline outbox."""

from datetime import UTC, datetime, timedelta

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from ..fields import Text

NOTE_MAX = 1000
MAX_BARRIERS = 10
# Offline devices may sync weeks later, but not a date from another era or the future.
OLDEST_OBSERVATION = timedelta(days=365)
CLOCK_SKEW = timedelta(minutes=10)


class ObservationSchema(Schema):
    id = fields.UUID(required=True, error_messages={"required": "Every observation needs an id."})
    hcp = Text(
        required=True,
        validate=validate.Length(min=1, max=64),
        error_messages={"required": "Choose the HCP you saw."},
    )
    barriers = fields.List(
        Text(validate=validate.Length(min=1, max=40)),
        required=True,
        validate=validate.Length(
            min=1, max=MAX_BARRIERS, error=f"Choose between 1 and {MAX_BARRIERS} barriers."
        ),
        error_messages={"required": "Choose at least one barrier."},
    )
    note = Text(
        load_default="",
        validate=validate.Length(max=NOTE_MAX, error=f"Keep the note under {NOTE_MAX} characters."),
    )
    observed_at = fields.AwareDateTime(
        required=True,
        error_messages={
            "required": "Say when the call took place.",
            "invalid": "Give a date and time in ISO 8601 with an offset.",
            "invalid_awareness": "Give the time with its UTC offset.",
        },
    )
    brand = Text(load_default=None, allow_none=True, validate=validate.Length(max=40))
    channel = Text(load_default=None, allow_none=True, validate=validate.Length(max=40))
    # Where the HCP stands on the brand's adoption ladder, when the author says (needs a brand).
    adoption_stage = Text(load_default=None, allow_none=True, validate=validate.Length(max=40))

    @validates_schema
    def _stage_needs_a_brand(self, data, **kwargs):
        if data.get("adoption_stage") and not data.get("brand"):
            raise ValidationError("Choose the brand whose adoption stage this is.",
                                  "adoption_stage")

    @validates("observed_at")
    def _plausible_time(self, value: datetime, **kwargs):
        now = datetime.now(UTC)
        if value > now + CLOCK_SKEW:
            raise ValidationError("The call cannot be in the future.")
        if value < now - OLDEST_OBSERVATION:
            raise ValidationError("The call is more than a year old.")


# A schema keeps no state between loads, and building one deep-copies its fields: one for all.
OBSERVATION = ObservationSchema()
