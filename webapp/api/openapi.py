"""The OpenAPI description of /api/v1, generated from the same marshmallow schemas."""

from functools import cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from ..capture.schemas import ObservationSchema
from .schemas import (
    BarrierPageSchema,
    BarrierQuerySchema,
    HCPPageSchema,
    HCPQuerySchema,
    MeSchema,
    ReferenceSchema,
    ErrorSchema,
    ObservationPageSchema,
    ObservationQuerySchema,
    SyncResponseSchema,
)


def _json(schema, description):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "401": _json("Error", "No session and no valid bearer token."),
    "403": _json("Error", "The caller's role may not use this endpoint."),
    "422": _json("Error", "Invalid input; `errors` maps each field to its messages."),
}


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
    spec.components.schema("BarrierPage", schema=BarrierPageSchema)
    spec.components.schema("Observation", schema=ObservationSchema)
    spec.components.schema("ObservationPage", schema=ObservationPageSchema)
    spec.components.schema("SyncResponse", schema=SyncResponseSchema)
    batch = {
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
    security = [{"bearer": []}]
    spec.path(
        path="/api/v1/barriers",
        operations={
            "get": {
                "summary": "The barrier library with plays and leave-behinds",
                "security": security,
                "parameters": [{"in": "query", "schema": BarrierQuerySchema}],
                "responses": {"200": _json("BarrierPage", "A page of barriers."), **ERRORS},
            }
        },
    )
    spec.path(
        path="/api/v1/hcps",
        operations={
            "get": {
                "summary": "The HCPs in the caller's scope",
                "security": security,
                "parameters": [{"in": "query", "schema": HCPQuerySchema}],
                "responses": {"200": _json(HCPPageSchema, "A page of HCPs."), **ERRORS},
            }
        },
    )
    spec.path(
        path="/api/v1/reference",
        operations={
            "get": {
                "summary": "Display names for the library's codes, and the brands",
                "security": security,
                "responses": {"200": _json(ReferenceSchema, "Names by code."), **ERRORS},
            }
        },
    )
    spec.path(
        path="/api/v1/me",
        operations={
            "get": {
                "summary": "The signed-in user and a CSRF token for session writes",
                "security": security,
                "responses": {"200": _json(MeSchema, "The caller."), **ERRORS},
            }
        },
    )
    spec.path(
        path="/api/v1/observations",
        operations={
            "get": {
                "summary": "Observations in the caller's scope, oldest first after `since`",
                "security": security,
                "parameters": [{"in": "query", "schema": ObservationQuerySchema}],
                "responses": {"200": _json("ObservationPage", "A page of observations."), **ERRORS},
            },
            "post": {
                "summary": "Sync up to 500 observations; idempotent on each item's id",
                "security": security,
                "requestBody": {"required": True, "content": {"application/json": {"schema": batch}}},
                "responses": {
                    "200": _json("SyncResponse", "One result per item, in order."),
                    "413": _json("Error", "The body is larger than the server accepts."),
                    **ERRORS,
                },
            },
        },
    )
    return spec.to_dict()
