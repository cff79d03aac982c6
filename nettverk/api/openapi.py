"""The OpenAPI 3.1 document of /api/v1, generated: each route is declared once, with `get`/`route` below (its
summary, query model, body model and answers), and its shapes are the pydantic models in schemas.py. The
same query model parses the request (`query`), so the document and the server cannot disagree.

tests/test_api.py compares the document with the url map and validates answers against it,
tests/test_openapi_agrees.py walks its parameters, and tests/conftest.py fails any test that sees an
/api/v1 status the document does not list.
"""

import re
from typing import Any, TypeVar

from flask import Blueprint, abort, current_app, jsonify, request
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from nettverk.api import schemas

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PATHS: dict[str, dict] = {}  # /api/v1/… → method → operation, filled as the api modules declare their routes
_MODELS: set[type[BaseModel]] = {schemas.Problem}  # the models the paths refer to
_REF = "#/components/schemas/{model}"
Q = TypeVar("Q", bound=BaseModel)
_PATH_TYPES = {"int": schemas.Id}  # the app's int converter stops at the id columns' maximum

PROBLEM = "Problem (RFC 9457)"
NOT_LOGGED_IN = (schemas.Problem, "Ikke logget inn")
CSRF_HEADER = {
    "name": "X-CSRFToken",
    "in": "header",
    "required": True,
    "description": 'CSRF-nøkkelen til økten (<meta name="csrf-token"> i sidene for en innlogget '
    "bruker). Uten den svarer API-et 400.",
    "schema": {"type": "string"},
}


class _NoFieldTitles(GenerateJsonSchema):
    def field_title_should_be_set(self, schema) -> bool:
        return False


def _schema(annotation) -> dict:
    return TypeAdapter(annotation).json_schema(schema_generator=_NoFieldTitles, ref_template=_REF)


def _query_schemas(model: type[BaseModel]) -> dict[str, dict]:
    """Each query parameter's schema (by its name in the address), as pydantic writes it for the model, with
    X | None written as X: a parameter is optional by leaving it out, never null."""
    properties = model.model_json_schema(ref_template=_REF, schema_generator=_NoFieldTitles)["properties"]
    for schema in properties.values():
        alternatives = [option for option in schema.pop("anyOf", []) if option != {"type": "null"}]
        if len(alternatives) == 1:
            schema.update(alternatives[0])
        if "default" in schema and schema["default"] is None:
            del schema["default"]
    return properties


def _query_parameters(model: type[BaseModel]) -> list[dict]:
    return [
        {"name": name, "in": "query", "required": False, "description": schema.pop("description"), "schema": schema}
        for name, schema in _query_schemas(model).items()
    ]


def _path_parameters(rule: str, descriptions: dict[str, str | tuple[str, Any]]) -> list[dict]:
    parameters = []
    for converter, name in re.findall(r"<(?:([^:<>]+):)?([^<>]+)>", rule):
        described = descriptions[name]
        description, kind = described if isinstance(described, tuple) else (described, _PATH_TYPES.get(converter, str))
        schema = _schema(kind)
        parameters.append({"name": name, "in": "path", "required": True, "description": description, "schema": schema})
    return parameters


def _answer(status: int, answer) -> dict:
    """An answer declared as a model (schemas.Problem: a problem document), (model, description), a
    description alone (no content), or a raw OpenAPI response object."""
    if isinstance(answer, dict):
        return answer
    if isinstance(answer, str):
        return {"description": answer}
    model, description = answer if isinstance(answer, tuple) else (answer, None)
    problem = model is schemas.Problem
    _MODELS.add(model)
    content_type = "application/problem+json" if problem else "application/json"
    return {
        "description": description or (PROBLEM if problem else "OK"),
        "content": {content_type: {"schema": {"$ref": _REF.format(model=model.__name__)}}},
    }


def route(
    rule: str,
    methods: dict[str, dict],
    *,
    path: dict[str, str | tuple[str, Any]] | None = None,
):
    """Add a route to the blueprint and its operations to the document. `methods` maps each method to its
    operation: summary, tags, description, query (a model), body (a model), answers ({status: see _answer}),
    login (the session cookie), csrf (the X-CSRFToken header)."""
    openapi_path = "/api/v1" + re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)
    item = PATHS.setdefault(openapi_path, {})
    for method, declared in methods.items():
        item[method] = _operation(rule, declared, path or {})

    return bp.route(rule, methods=[method.upper() for method in methods])


def get(rule: str, *, path: dict[str, str | tuple[str, Any]] | None = None, **operation):
    return route(rule, {"get": operation}, path=path)


def _operation(rule: str, declared: dict, descriptions: dict) -> dict:
    operation = {"summary": declared["summary"], "operationId": declared["id"], "tags": declared["tags"]}
    if "description" in declared:
        operation["description"] = declared["description"]
    if declared.get("login"):
        operation["security"] = [{"session": []}]
    parameters = _path_parameters(rule, descriptions)
    if declared.get("csrf"):
        parameters.append(CSRF_HEADER)
    if "query" in declared:
        parameters += _query_parameters(declared["query"])
    if parameters:
        operation["parameters"] = parameters
    if "body" in declared:
        _MODELS.add(declared["body"])
        schema = {"$ref": _REF.format(model=declared["body"].__name__)}
        operation["requestBody"] = {"required": False, "content": {"application/json": {"schema": schema}}}
    answers = {str(status): _answer(status, answer) for status, answer in declared["answers"].items()}
    # Every operation may answer 400: a NUL character in the address is refused before the view (views._refuse_nul).
    answers.setdefault("400", _answer(400, (schemas.Problem, "Ugyldig forespørsel")))
    operation["responses"] = answers
    return operation


# Parsing and answering -----------------------------------------------------------------------------------


def query(model: type[Q]) -> Q:
    """The request's query parameters as `model`; an empty value is the same as none, and a value the model
    refuses is a 400 problem with the field's Norwegian message."""
    values = {}
    for name, field in model.model_fields.items():
        if value := request.args.get(field.alias or name):
            values[field.alias or name] = value
    try:
        return model.model_validate(values)
    except ValidationError as error:
        abort(400, refusal(model, error.errors()[0], values))


def refusal(model: type[BaseModel], error: dict, values: dict) -> str:
    """The Norwegian message for one refused field: the validator's own message, or the field's Refuse text."""
    if isinstance(error.get("ctx", {}).get("error"), schemas.Refused):
        return str(error["ctx"]["error"])
    key = error["loc"][0]
    name = next(name for name, field in model.model_fields.items() if key in (name, field.alias))
    field = model.model_fields[name]
    template = next(m.template for m in field.metadata if isinstance(m, schemas.Refuse))
    choices = _query_schemas(model).get(key, {}).get("enum", [])
    return template.format(value=values.get(key, error.get("input")), name=key, choices=", ".join(choices))


def answer(model: type[BaseModel], data: dict, status: int = 200):
    """The JSON answer `data`, checked against and written by `model` (the shape the document shows)."""
    response = jsonify(model.model_validate(data).model_dump(mode="json"))
    response.status_code = status
    return response


# The document ----------------------------------------------------------------------------------------------


def _components() -> dict:
    models = sorted(_MODELS, key=lambda model: model.__name__)
    _, top = models_json_schema(
        [(model, "validation") for model in models], ref_template=_REF, schema_generator=_NoFieldTitles
    )
    return top.get("$defs", {})


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "nettverk API",
            "version": "1",
            "description": "Registeret over kommuner, kompetansebaser og tjenester, arrangementer og "
            "nettverk, påmelding for innlogget bruker, katalogen over delte tiltak og "
            "henvendelsene du har tilgang til. Feil svarer med "
            "application/problem+json (RFC 9457). Tider er ISO 8601 i Europe/Oslo. Et tomt "
            "spørreparameter (kind=) er det samme som å utelate det; en verdi utenfor det "
            "dokumenterte (ukjent enum-verdi, slug eller kommunenummer) gir 400.",
        },
        "servers": [{"url": current_app.config["BASE_URL"]}],
        "paths": PATHS,
        "components": {
            "schemas": _components(),
            "securitySchemes": {
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": current_app.config.get("SESSION_COOKIE_NAME", "session"),
                    "description": "Økten fra innloggingen på nettstedet; "
                    "endringer krever i tillegg headeren X-CSRFToken",
                }
            },
        },
    }
