"""The library forms HQ fills in: a barrier, and a play version with its leave-behind."""

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from ..extensions import db
from ..fields import Text
from ..models import USER_ROLES, AdoptionStage, Category, Channel, JourneyStage, Role

CODE = validate.Regexp(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$",
                       error="Use capitals, digits and dashes, like ACC-PA-009.")


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def _codes(model) -> set[str]:
    return set(db.session.scalars(db.select(model.code)))


class Known(validate.Validator):
    """The value (or each value of a list) is a code of this reference table."""

    def __init__(self, model, only: tuple[str, ...] | None = None):
        self.model, self.only = model, only

    def __call__(self, value):
        known = _codes(self.model)
        if self.only is not None:
            known &= set(self.only)
        values = value if isinstance(value, list) else [value]
        unknown = [v for v in values if v not in known]
        if unknown:
            raise ValidationError(f"Unknown: {', '.join(unknown)}.")
        return value


def _required(what: str, low: int, high: int, message: str) -> dict:
    return {"required": True, "validate": validate.Length(min=low, max=high, error=message),
            "error_messages": {"required": message}}


class BarrierFormSchema(Schema):
    code = Text(load_default="", validate=validate.Length(max=40))
    name = Text(**_required("name", 3, 200, "Name the barrier as a customer would say it "
                            "(3 to 200 characters)."))
    description = Text(load_default="", validate=validate.Length(max=2000))
    category_code = Text(required=True, validate=Known(Category),
                         error_messages={"required": "Choose a category."})
    journey_stage_code = Text(required=True, validate=Known(JourneyStage),
                              error_messages={"required": "Choose a journey stage."})
    adoption_stages = fields.List(Text(), load_default=list, validate=Known(AdoptionStage))
    signals = fields.List(Text(validate=validate.Length(max=300)), load_default=list)
    primary_role_code = Text(required=True, validate=Known(Role, USER_ROLES),
                             error_messages={"required": "Choose the lead role."})
    compliant_for = fields.List(Text(), required=True, validate=[
        validate.Length(min=1, error="Choose at least one role that may run its plays."),
        Known(Role, USER_ROLES)])

    @pre_load
    def _signals_one_per_line(self, data, **kwargs):
        if isinstance(data.get("signals"), str):
            data = {**data, "signals": _lines(data["signals"])}
        return data

    @validates_schema(skip_on_field_errors=False)
    def _lead_may_run(self, data, **kwargs):
        if "primary_role_code" not in data or "compliant_for" not in data:
            return  # their own field errors say what is wrong
        if data["primary_role_code"] not in data["compliant_for"]:
            raise ValidationError("The lead role must be one of the roles that may run it.",
                                  "compliant_for")


class NewBarrierFormSchema(BarrierFormSchema):
    code = Text(required=True, validate=[validate.Length(min=3, max=40), CODE],
                error_messages={"required": "Give the barrier a code."})


class PlayFormSchema(Schema):
    """The five questions, the MLR fields and the leave-behind of one play version."""

    title = Text(**_required("title", 3, 200, "Give the play a title (3 to 200 characters)."))
    goal = Text(**_required("goal", 3, 2000, "Say what the customer wants to achieve."))
    channel_code = Text(required=True, validate=Known(Channel),
                        error_messages={"required": "Choose the channel."})
    know = Text(**_required("know", 3, 4000, "Say what the role must know."))
    use = Text(**_required("use", 3, 4000, "Say what the role can use."))
    tell = fields.List(Text(), load_default=list, validate=Known(Role))
    approval_code = Text(load_default="", validate=validate.Length(max=60))
    expires_on = fields.Date(load_default=None, allow_none=True,
                             error_messages={"invalid": "Give a date like 2027-06-30."})
    lb_title = Text(load_default="", validate=validate.Length(max=200))
    lb_steps = fields.List(Text(validate=validate.Length(max=500)), load_default=list,
                           validate=validate.Length(max=8, error="Keep it to 8 steps: one page."))
    lb_approval_code = Text(load_default="", validate=validate.Length(max=60))
    lb_expires_on = fields.Date(load_default=None, allow_none=True,
                                error_messages={"invalid": "Give a date like 2027-06-30."})

    @pre_load
    def _from_form(self, data, **kwargs):
        data = dict(data)
        if isinstance(data.get("lb_steps"), str):
            data["lb_steps"] = _lines(data["lb_steps"])
        for name in ("expires_on", "lb_expires_on"):
            if data.get(name) == "":
                data[name] = None
        return data

    @validates_schema(skip_on_field_errors=False)
    def _leave_behind_whole(self, data, **kwargs):
        if "lb_title" not in data or "lb_steps" not in data:
            return  # their own field errors say what is wrong
        if data["lb_title"] and not data["lb_steps"]:
            raise ValidationError("A leave-behind needs at least one step.", "lb_steps")
        if data["lb_steps"] and not data["lb_title"]:
            raise ValidationError("Give the leave-behind a title.", "lb_title")


def form_data(source, lists: tuple[str, ...]) -> dict:
    """A submitted form as a dict: repeated fields as lists, the rest as strings."""
    data = {key: source.get(key) for key in source.keys() if key != "csrf_token"}
    for name in lists:
        data[name] = source.getlist(name)
    return data
