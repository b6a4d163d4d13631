"""The OpenAPI schema says every answer an operation can give, not only its success.

``ApiSchema`` (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS) adds the refusals to each operation, where
they can occur, unless the view documents them itself (``extend_schema``):

- 400 ``ValidationError`` (field or parameter name → messages) when it takes a body or query
  parameters;
- 401 and 403 ``Error`` when it needs a token (no token, or a role that may not do this);
- 404 ``Error`` when it names an object by id in its path, pages (a page past the last) or writes
  (an id in the body that is not one of the caller's);
- 409 ``Error`` where a view says so with ``CONFLICT`` (someone else acted a moment ago).

Query parameters are described as they are checked (portal.api_query): a string one is never
empty. Bodies are documented as JSON, or as multipart where a view takes a file."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions
from rest_framework.settings import api_settings

ERROR = ResolvedComponent(
    name="Error",
    type=ResolvedComponent.SCHEMA,
    object="Error",
    schema={
        "type": "object",
        "description": "A refusal: what went wrong, in a sentence.",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
)
VALIDATION_ERROR = ResolvedComponent(
    name="ValidationError",
    type=ResolvedComponent.SCHEMA,
    object="ValidationError",
    schema={
        "type": "object",
        "description": "Each field, parameter or list position that was refused, with its "
        'messages (``{"status": ["…"]}``); ``non_field_errors`` or ``detail`` for the whole '
        "request.",
        "additionalProperties": {},
    },
)

# For extend_schema(responses={..., 409: CONFLICT}) on the operations whose services can find
# that someone else acted first (portal.errors.Conflict).
CONFLICT = OpenApiResponse(
    response=ERROR.ref,
    description="Someone else changed the same thing a moment ago: reload and decide again.",
)

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class ApiSchema(AutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code, description in self._refusals().items():
            responses.setdefault(code, {"description": description})
        for code, response in responses.items():
            if code.startswith(("4", "5")) and "content" not in response:
                # A refusal documented by its view with words only gets its body too.
                component = VALIDATION_ERROR if code == "400" else ERROR
                self.registry.register_on_missing(component)
                response["content"] = {"application/json": {"schema": component.ref}}
        return dict(sorted(responses.items()))

    def _refusals(self) -> dict[str, str]:
        """The refusals this operation can answer, with what each means."""
        parameters = self._get_parameters()
        takes_query = any(parameter["in"] == "query" for parameter in parameters)
        in_path = any(parameter["in"] == "path" for parameter in parameters)
        refusals: dict[str, str] = {}
        if self.method in WRITES or takes_query:
            refusals["400"] = (
                "The request was refused: each field or query parameter that was wrong, with why."
            )
        permission_classes = {type(permission) for permission in self.view.get_permissions()}
        if self.view.get_authenticators() and permissions.AllowAny not in permission_classes:
            refusals["401"] = "No token, or one that is unknown, expired or revoked."
            refusals["403"] = "Your role may not do this."
            paginated = self._is_paginated()
            if in_path or self.method in WRITES or paginated:
                missing = "No such object among those you may see (an id in the path or body)"
                missing += ", or a page past the last." if paginated else "."
                refusals["404"] = missing
        return refusals

    def _is_paginated(self) -> bool:
        return self.method == "GET" and self._is_list_view() and self._get_paginator() is not None

    def map_parsers(self) -> list[Any]:
        """A view on the default parsers documents its body as JSON: the form encodings it
        also reads have no way to say null or a nested list. Views that take files name their
        parsers and document them all."""
        if self.view.parser_classes == api_settings.DEFAULT_PARSER_CLASSES:
            return ["application/json"]
        return super().map_parsers()

    def _get_parameters(self) -> list[dict[str, Any]]:
        parameters = super()._get_parameters()
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if (
                parameter["in"] == "query"
                and schema.get("type") == "string"
                and not {"enum", "pattern", "format", "minLength"} & set(schema)
            ):
                schema["minLength"] = 1  # an empty value is refused (portal.api_query)
        return parameters
