"""The OpenAPI 3.1 document of the JSON API, built from the endpoint declarations (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from web.endpoints import Endpoint, SqlInt, int_range

REF = "#/components/schemas/{model}"

PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["status", "title", "detail", "parameters"],
    "properties": {
        "status": {"type": "integer"},
        "title": {"type": "string"},
        "detail": {"type": "string"},
        "parameters": {"type": "array", "items": {"type": "string"}},
        "request_id": {"type": ["string", "null"],
                       "description": "the request's id (its X-Request-Id header): the log names it"},
        "link": {"type": "string", "description": "where to go instead: an end-dated row's deleted=1 page"},
    },
}


def _bounded(schema: Any, ints: SqlInt) -> Any:
    """The parameter's schema with its ints bounded by their SQL type, as web/endpoints.py checks them."""
    if isinstance(schema, list):
        return [_bounded(s, ints) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _bounded(v, ints) for k, v in schema.items()}
    if out.get("type") == "integer":
        out["format"] = ints.name
        out["minimum"] = max(out.get("minimum", ints.low), ints.low)
        out["maximum"] = min(out.get("maximum", ints.high), ints.high)
    return out


def _schema(model: type[BaseModel], components: dict[str, Any], mode: str = "serialization") -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
    components.update(schema.pop("$defs", {}))
    return schema


def _operation(ep: Endpoint, components: dict[str, Any]) -> dict[str, Any]:
    params = _schema(ep.params, components, mode="validation")
    props: dict[str, Any] = params.get("properties", {})
    required = set(params.get("required", []))
    op: dict[str, Any] = {"operationId": ep.name, "summary": ep.summary, "tags": [ep.tag]}
    in_path = set(ep.path_names)
    parameters = []
    for name, prop in props.items():
        if name in ep.params.model_fields:
            prop = props[name] = _bounded(prop, int_range(ep.params.model_fields[name]))
        where = "path" if name in in_path else "query"
        if ep.method == "POST" and where == "query":
            continue
        parameters.append({"name": name, "in": where, "required": where == "path" or name in required,
                           "schema": {k: v for k, v in prop.items() if k != "title"}})
    if parameters:
        op["parameters"] = parameters
    if ep.method == "POST":
        body = {k: v for k, v in params.items() if k != "title"}
        body["properties"] = {k: v for k, v in props.items() if k not in in_path}
        body["required"] = sorted(required - in_path)
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    name = ep.response.__name__
    components[name] = _schema(ep.response, components)
    problem = {"content": {"application/json": {"schema": {"$ref": REF.format(model="Problem")}}}}
    op["responses"] = {
        "200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": REF.format(model=name)}}}},
        "400": {"description": "a parameter is not valid", **problem},
        "404": {"description": "not found", **problem},
        "421": {"description": "the Host header is not one this server answers (--allowed-host)", **problem},
        "500": {"description": "an unexpected error: the log has its traceback under the problem's request_id",
                **problem},
    }
    if ep.method == "POST":
        op["responses"]["403"] = {"description": "refused: no admin token, read-only, or cross-site", **problem}
    return op


def document(endpoints: Iterable[Endpoint], prefix: str) -> dict[str, Any]:
    components: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    paths: dict[str, Any] = {}
    for ep in sorted((e for e in endpoints if e.api), key=lambda e: e.api or ""):
        assert ep.api is not None
        paths.setdefault(prefix + ep.api, {})[ep.method.lower()] = _operation(ep, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "vcdb-stream explorer", "version": "1",
                 "description": "The explorer's JSON API: the same functions as its pages."},
        "paths": paths,
        "components": {"schemas": components},
    }
