"""Input fields shared by every schema."""

from marshmallow import ValidationError, fields


class Text(fields.String):
    """A string with no NUL character: PostgreSQL cannot store one, and no human types one."""

    def __init__(self, *args, **kwargs):
        metadata = dict(kwargs.pop("metadata", None) or {})
        metadata.setdefault("pattern", r"^[^\u0000]*$")  # says so in the OpenAPI spec too
        super().__init__(*args, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("Text cannot contain NUL characters.")
        return text
