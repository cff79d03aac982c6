"""The OpenAPI 3.1 description of /api/v1. tests/api checks it against the real routes."""

from flask import current_app


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _list_of(name: str) -> dict:
    return {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": _ref(name)}}}


def _ok(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


PROBLEM_RESPONSE = {"description": "Problem (RFC 9457)",
                    "content": {"application/problem+json": {"schema": _ref("Problem")}}}


def _path_param(name: str, description: str, pattern: str | None = None) -> dict:
    schema = {"type": "string"}
    if pattern:
        schema["pattern"] = pattern
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


SCHEMAS = {
    "Problem": {"type": "object", "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"}}},
    "County": {"type": "object", "required": ["number", "name"], "properties": {
        "number": {"type": "string"}, "name": {"type": "string"}}},
    "MunicipalityRef": {"type": "object", "required": ["number", "name"], "properties": {
        "number": {"type": "string", "pattern": "^[0-9]{4}$"}, "name": {"type": "string"}}},
    "Municipality": {"type": "object", "required": ["number", "name", "current"], "properties": {
        "number": {"type": "string", "pattern": "^[0-9]{4}$"}, "name": {"type": "string"},
        "sami_name": {"type": ["string", "null"]}, "current": {"type": "boolean"},
        "valid_to": {"type": ["string", "null"], "format": "date"}, "county": _ref("County")}},
    "HistoryEdge": {"allOf": [_ref("Municipality"), {"type": "object", "properties": {
        "effective_date": {"type": "string", "format": "date"}, "partial": {"type": "boolean"}}}]},
    "MunicipalityDetail": {"allOf": [_ref("Municipality"), {"type": "object", "properties": {
        "bases": {"type": "array", "items": _ref("Base")},
        "services": {"type": "array", "items": {"type": "object", "properties": {
            "slug": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"}}}},
        "merged_from": {"type": "array", "items": _ref("HistoryEdge")},
        "merged_into": {"type": "array", "items": _ref("HistoryEdge")}}}]},
    "Base": {"type": "object", "required": ["slug", "name"], "properties": {
        "slug": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string"},
        "member_count": {"type": "integer"}}},
    "BaseDetail": {"allOf": [_ref("Base"), {"type": "object", "properties": {
        "members": {"type": "array", "items": {"allOf": [_ref("Municipality"), {"type": "object", "properties": {
            "demo_membership": {"type": "boolean"}}}]}}}}]},
    "Service": {"type": "object", "required": ["slug", "name", "kind", "host_municipality"], "properties": {
        "slug": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"},
        "kind_label": {"type": "string"}, "host_municipality": _ref("MunicipalityRef"),
        "email": {"type": ["string", "null"]}, "phone": {"type": ["string", "null"]},
        "served_count": {"type": "integer"}}},
    "ServiceDetail": {"allOf": [_ref("Service"), {"type": "object", "properties": {
        "description": {"type": "string"},
        "serves": {"type": "array", "items": _ref("Municipality")},
        "units": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"},
            "municipality": {"type": ["string", "null"]}}}}}}]},
}

PATHS = {
    "/api/v1/counties": {"get": {"summary": "Fylker", "operationId": "listCounties", "tags": ["registry"],
                                 "responses": {"200": _ok(_list_of("County"))}}},
    "/api/v1/bases": {"get": {"summary": "Kompetansebaser med antall medlemskommuner", "operationId": "listBases",
                              "tags": ["registry"], "responses": {"200": _ok(_list_of("Base"))}}},
    "/api/v1/bases/{slug}": {"get": {
        "summary": "Én kompetansebase med medlemskommuner", "operationId": "getBase", "tags": ["registry"],
        "parameters": [_path_param("slug", "Kompetansebasens slug, for eksempel namdalen")],
        "responses": {"200": _ok(_ref("BaseDetail")), "404": PROBLEM_RESPONSE}}},
    "/api/v1/municipalities": {"get": {
        "summary": "Kommuner (gjeldende, eller alle med historiske)", "operationId": "listMunicipalities",
        "tags": ["registry"],
        "parameters": [{"name": "include_historic", "in": "query", "required": False,
                        "schema": {"type": "boolean", "default": False}}],
        "responses": {"200": _ok(_list_of("Municipality"))}}},
    "/api/v1/municipalities/{number}": {"get": {
        "summary": "Én kommune med kompetansebaser, tjenester og historikk", "operationId": "getMunicipality",
        "tags": ["registry"], "parameters": [_path_param("number", "Kommunenummer", "^[0-9]{4}$")],
        "responses": {"200": _ok(_ref("MunicipalityDetail")), "404": PROBLEM_RESPONSE}}},
    "/api/v1/services": {"get": {
        "summary": "Tjenester med vertskommune", "operationId": "listServices", "tags": ["registry"],
        "parameters": [{"name": "kind", "in": "query", "required": False, "schema": {"type": "string"}}],
        "responses": {"200": _ok(_list_of("Service")), "400": PROBLEM_RESPONSE}}},
    "/api/v1/services/{slug}": {"get": {
        "summary": "Én tjeneste med kommunene den betjener og enhetene", "operationId": "getService",
        "tags": ["registry"], "parameters": [_path_param("slug", "Tjenestens slug")],
        "responses": {"200": _ok(_ref("ServiceDetail")), "404": PROBLEM_RESPONSE}}},
    "/api/v1/openapi.json": {"get": {
        "summary": "Dette dokumentet", "operationId": "getOpenAPI", "tags": ["meta"],
        "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}}}},
}


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "nettverk API", "version": "1",
                 "description": "Registeret over kommuner, kompetansebaser og tjenester. Feil svarer med "
                                "application/problem+json (RFC 9457)."},
        "servers": [{"url": current_app.config["BASE_URL"]}],
        "paths": PATHS,
        "components": {"schemas": SCHEMAS},
    }
