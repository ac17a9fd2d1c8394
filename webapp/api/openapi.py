"""The OpenAPI description of /api/v1, generated from the same marshmallow schemas."""

from functools import cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from ..capture.schemas import ObservationSchema
from .schemas import (
    BarrierPageSchema,
    BarrierQuerySchema,
    ErrorSchema,
    HCPPageSchema,
    HCPQuerySchema,
    MeSchema,
    ObservationPageSchema,
    ObservationQuerySchema,
    ReferenceSchema,
    SuggestionQuerySchema,
    SuggestionsSchema,
    SyncResponseSchema,
)


def _json(schema, description):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "401": _json("Error", "No session and no valid bearer token."),
    "403": _json("Error", "The caller's role may not use this endpoint."),
    "422": _json("Error", "Invalid input; `errors` maps each field to its messages."),
}

# Each item is validated on its own, so the envelope only bounds the list.
SYNC_BATCH = {
    "type": "object",
    "required": ["observations"],
    "additionalProperties": False,
    "properties": {
        "observations": {
            "type": "array",
            "minItems": 1,
            "maxItems": 500,
            "items": {"$ref": "#/components/schemas/Observation"},
        }
    },
}


def _operation(summary, response, description, query=None, body=None, extra=None):
    operation = {
        "summary": summary,
        "security": [{"bearer": []}],
        "responses": {"200": _json(response, description), **(extra or {}), **ERRORS},
    }
    if query is not None:
        operation["parameters"] = [{"in": "query", "schema": query}]
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return operation


@cache
def build_spec() -> dict:
    spec = APISpec(
        title="Clearpath API",
        version="1.0.0",
        openapi_version="3.0.3",
        info={"description": "Barrier library and observation sync for Clearpath."},
        plugins=[MarshmallowPlugin()],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.schema("Observation", schema=ObservationSchema)
    paths = {
        "/api/v1/barriers": {"get": _operation(
            "The barrier library with plays and leave-behinds", BarrierPageSchema,
            "A page of barriers.", query=BarrierQuerySchema)},
        "/api/v1/hcps": {"get": _operation(
            "The HCPs in the caller's scope", HCPPageSchema, "A page of HCPs.",
            query=HCPQuerySchema)},
        "/api/v1/reference": {"get": _operation(
            "Display names for the library's codes, and the brands", ReferenceSchema,
            "Names by code.")},
        "/api/v1/me": {"get": _operation(
            "The signed-in user and a CSRF token for session writes", MeSchema, "The caller.")},
        "/api/v1/suggestions": {"post": _operation(
            "The likeliest barriers for a note, best first (at most 5)", SuggestionsSchema,
            "Suggestions.", body=SuggestionQuerySchema,
            extra={"404": _json("Error", "The HCP is not in the caller's scope.")})},
        "/api/v1/suggest-index": {"get": _operation(
            "The suggestion index, for ranking on the device when offline", {"type": "object"},
            "BM25F statistics, expansions and stop words.")},
        "/api/v1/observations": {
            "get": _operation(
                "Observations in the caller's scope, oldest first after `since`",
                ObservationPageSchema, "A page of observations.", query=ObservationQuerySchema),
            "post": _operation(
                "Sync up to 500 observations; idempotent on each item's id", SyncResponseSchema,
                "One result per item, in order.", body=SYNC_BATCH,
                extra={"413": _json("Error", "The body is larger than the server accepts.")}),
        },
    }
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
