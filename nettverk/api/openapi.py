"""The OpenAPI 3.1 description of /api/v1. tests/api checks it against the real routes."""

from flask import current_app

from nettverk.competence.models import AREA_KINDS
from nettverk.competence.models import LEVELS as COMPETENCE_LEVELS
from nettverk.events.models import AUDIENCES, EVENT_KINDS, EVENT_STATUSES, REGISTRATION_STATUSES
from nettverk.materials.models import MATERIAL_AUDIENCES
from nettverk.materials.storage import KINDS as MATERIAL_FILE_KINDS
from nettverk.referrals.models import (
    CONSENT_FORMS,
    INTERVENTION_STATUSES,
    METHODS,
    OUTCOMES,
    REFERRAL_STATUSES,
    URGENCIES,
)
from nettverk.referrals.operations import ACTIONS
from nettverk.registry.models import SERVICE_KINDS


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _list_of(name: str) -> dict:
    return {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": _ref(name)}}}


def _page_of(name: str) -> dict:
    """One page of a long list: the items, the page number, the page size and how many there are in all."""
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total"],
        "properties": {
            "items": {"type": "array", "items": _ref(name)},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "total": {"type": "integer", "minimum": 0},
        },
    }


def _ok(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


PROBLEM_RESPONSE = {
    "description": "Problem (RFC 9457)",
    "content": {"application/problem+json": {"schema": _ref("Problem")}},
}


def _path_param(name: str, description: str, pattern: str | None = None) -> dict:
    schema = {"type": "string"}
    if pattern:
        schema["pattern"] = pattern
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


DATE_WINDOW = "Fra 2000-01-01 til ti år fram i tid; en dato utenfor gir 400."  # timeutil.check_day


def _query_param(name: str, description: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


MAX_PAGE = 99_999  # api.events and api.referrals refuse a larger page with 400


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


MAX_ID = 2**31 - 1  # every id column is a 32-bit integer; a larger id in a path is a 404 (nettverk.IdConverter)
EVENT_ID = {
    "name": "event_id",
    "in": "path",
    "required": True,
    "description": "Arrangementets id",
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}
CSRF_HEADER = {
    "name": "X-CSRFToken",
    "in": "header",
    "required": True,
    "description": 'CSRF-nøkkelen til økten (<meta name="csrf-token"> i sidene for en innlogget '
    "bruker). Uten den svarer API-et 400.",
    "schema": {"type": "string"},
}
DATE_TIME = {
    "type": "string",
    "format": "date-time",
    "description": "ISO 8601 i Europe/Oslo med forskyvning, for eksempel 2026-03-10T09:00:00+01:00",
}


SCHEMAS = {
    "Problem": {
        "type": "object",
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "field": {"type": "string", "description": "Feltet i innholdet som ble avvist, når det gjelder ett felt"},
        },
    },
    "County": {
        "type": "object",
        "required": ["number", "name"],
        "properties": {"number": {"type": "string"}, "name": {"type": "string"}},
    },
    "MunicipalityRef": {
        "type": "object",
        "required": ["number", "name"],
        "properties": {"number": {"type": "string", "pattern": "^[0-9]{4}$"}, "name": {"type": "string"}},
    },
    "Municipality": {
        "type": "object",
        "required": ["number", "name", "current"],
        "properties": {
            "number": {"type": "string", "pattern": "^[0-9]{4}$"},
            "name": {"type": "string"},
            "sami_name": {"type": ["string", "null"]},
            "current": {"type": "boolean"},
            "valid_to": {"type": ["string", "null"], "format": "date"},
            "county": _ref("County"),
        },
    },
    "HistoryEdge": {
        "allOf": [
            _ref("Municipality"),
            {
                "type": "object",
                "properties": {"effective_date": {"type": "string", "format": "date"}, "partial": {"type": "boolean"}},
            },
        ]
    },
    "MunicipalityDetail": {
        "allOf": [
            _ref("Municipality"),
            {
                "type": "object",
                "properties": {
                    "bases": {"type": "array", "items": _ref("Base")},
                    "services": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "slug": {"type": "string"},
                                "name": {"type": "string"},
                                "kind": {"type": "string"},
                            },
                        },
                    },
                    "merged_from": {"type": "array", "items": _ref("HistoryEdge")},
                    "merged_into": {"type": "array", "items": _ref("HistoryEdge")},
                },
            },
        ]
    },
    "Base": {
        "type": "object",
        "required": ["slug", "name"],
        "properties": {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "member_count": {"type": "integer"},
        },
    },
    "BaseDetail": {
        "allOf": [
            _ref("Base"),
            {
                "type": "object",
                "properties": {
                    "members": {
                        "type": "array",
                        "items": {
                            "allOf": [
                                _ref("Municipality"),
                                {"type": "object", "properties": {"demo_membership": {"type": "boolean"}}},
                            ]
                        },
                    }
                },
            },
        ]
    },
    "Service": {
        "type": "object",
        "required": ["slug", "name", "kind", "host_municipality"],
        "properties": {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "kind": {"type": "string"},
            "kind_label": {"type": "string"},
            "host_municipality": _ref("MunicipalityRef"),
            "email": {"type": ["string", "null"]},
            "phone": {"type": ["string", "null"]},
            "served_count": {"type": "integer"},
        },
    },
    "ServiceDetail": {
        "allOf": [
            _ref("Service"),
            {
                "type": "object",
                "properties": {
                    "description": {"type": "string"},
                    "serves": {"type": "array", "items": _ref("Municipality")},
                    "units": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "integer"},
                                "name": {"type": "string"},
                                "municipality": {"type": ["string", "null"]},
                            },
                        },
                    },
                },
            },
        ]
    },
    "NamedRef": {
        "type": "object",
        "required": ["slug", "name"],
        "properties": {"slug": {"type": "string"}, "name": {"type": "string"}},
    },
    "MunicipalityName": {
        "type": "object",
        "required": ["number", "name"],
        "properties": {
            "number": {"type": "string", "pattern": "^[0-9]{4}$"},
            "name": {"type": "string"},
            "sami_name": {"type": ["string", "null"]},
        },
    },
    "Event": {
        "type": "object",
        "required": [
            "id",
            "uid",
            "kind",
            "kind_label",
            "title",
            "status",
            "status_label",
            "starts_at",
            "ends_at",
            "all_day",
            "base",
            "network",
            "audience",
            "host_municipality",
            "venue",
            "online_url",
            "capacity",
            "seats_left",
            "registration",
            "url",
        ],
        "properties": {
            "id": {"type": "integer"},
            "uid": {"type": "string", "description": "Kalender-UID; endres aldri"},
            "kind": {"type": "string", "enum": list(EVENT_KINDS)},
            "kind_label": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "string", "enum": list(EVENT_STATUSES)},
            "status_label": {"type": "string"},
            "starts_at": DATE_TIME,
            "ends_at": {**DATE_TIME, "description": "Slutt; for heldagsarrangementer midnatt etter siste dag"},
            "all_day": {"type": "boolean"},
            "base": _nullable(_ref("NamedRef")),
            "network": _nullable(_ref("NamedRef")),
            "audience": {"type": "string", "enum": list(AUDIENCES)},
            "audience_label": {"type": "string"},
            "host_municipality": _nullable(_ref("MunicipalityName")),
            "venue": _nullable(
                {
                    "type": "object",
                    "required": ["name", "address", "municipality"],
                    "properties": {
                        "name": {"type": "string"},
                        "address": {"type": "string"},
                        "municipality": _nullable(_ref("MunicipalityName")),
                    },
                }
            ),
            "online_url": {"type": ["string", "null"]},
            "capacity": {"type": ["integer", "null"], "description": "Antall plasser; null er ubegrenset"},
            "quota_per_municipality": {"type": ["integer", "null"]},
            "seats_left": {"type": ["integer", "null"], "minimum": 0, "description": "null er ubegrenset"},
            "registration": {
                "type": "object",
                "required": ["open", "closed_reason", "opens_at", "closes_at"],
                "properties": {
                    "open": {"type": "boolean"},
                    "closed_reason": {"type": ["string", "null"], "description": "Hvorfor påmeldingen er stengt"},
                    "opens_at": _nullable(DATE_TIME),
                    "closes_at": _nullable(DATE_TIME),
                    "asks_dietary": {"type": "boolean"},
                    "asks_lunch": {"type": "boolean"},
                },
            },
            "url": {"type": "string", "format": "uri", "description": "Arrangementets side"},
        },
    },
    "OwnRegistration": {
        "type": "object",
        "required": ["status", "status_label"],
        "properties": {
            "status": {"type": "string", "enum": list(REGISTRATION_STATUSES)},
            "status_label": {"type": "string"},
            "registered_at": DATE_TIME,
        },
    },
    "EventDetail": {
        "allOf": [
            _ref("Event"),
            {
                "type": "object",
                "required": ["description", "programme", "counts", "my_registration"],
                "properties": {
                    "description": {"type": "string", "description": "Markdown"},
                    "programme": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["starts", "title"],
                            "properties": {
                                "starts": {"type": "string", "description": "Klokkeslett i Oslo, for eksempel 09.00"},
                                "title": {"type": "string"},
                                "speaker": {"type": "string"},
                            },
                        },
                    },
                    "counts": {
                        "type": "object",
                        "required": ["confirmed", "waitlisted"],
                        "properties": {"confirmed": {"type": "integer"}, "waitlisted": {"type": "integer"}},
                    },
                    "my_registration": {
                        **_nullable(_ref("OwnRegistration")),
                        "description": "Din egen påmelding når du er logget inn, ellers null",
                    },
                },
            },
        ]
    },
    "RegistrationRequest": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "municipality": {
                "type": ["string", "null"],
                "pattern": "^[0-9]{4}$",
                "description": "Kommunenummeret til kommunen du jobber i",
            },
            "role": {
                "type": ["string", "null"],
                "maxLength": 160,
                "description": "Stilling, for eksempel helsesykepleier",
            },
            "dietary": {
                "type": ["string", "null"],
                "maxLength": 300,
                "description": "Allergier/spesialkost, når arrangementet spør om det",
            },
            "lunch": {"type": ["boolean", "null"], "description": "Blir med på lunsj, når arrangementet spør om det"},
        },
    },
    "RegistrationResult": {
        "allOf": [
            _ref("OwnRegistration"),
            {
                "type": "object",
                "required": ["event_id"],
                "properties": {
                    "event_id": {"type": "integer"},
                    "status": {"type": "string", "enum": ["confirmed", "waitlisted"]},
                },
            },
        ]
    },
    "Network": {
        "type": "object",
        "required": ["slug", "name", "kind", "bases", "cadence"],
        "properties": {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "kind": {"type": "string"},
            "kind_label": {"type": "string"},
            "description": {"type": "string"},
            "bases": {"type": "array", "items": _ref("NamedRef")},
            "cadence": {
                "type": "object",
                "required": ["rule", "meeting_start", "meeting_minutes"],
                "properties": {
                    "rule": {
                        "type": ["string", "null"],
                        "description": "RFC 5545-regel, for eksempel FREQ=YEARLY;BYMONTH=3,10;BYDAY=2TU",
                    },
                    "starts_on": {"type": ["string", "null"], "format": "date"},
                    "meeting_start": {
                        "type": "string",
                        "pattern": "^[0-9]{2}:[0-9]{2}$",
                        "description": "Klokkeslett i Oslo",
                    },
                    "meeting_minutes": {"type": "integer"},
                },
            },
            "venue": _nullable(
                {"type": "object", "properties": {"name": {"type": "string"}, "address": {"type": "string"}}}
            ),
            "host_municipality": _nullable(_ref("MunicipalityName")),
            "member_count": {"type": "integer"},
        },
    },
    "Intervention": {
        "type": "object",
        "required": [
            "slug",
            "name",
            "method",
            "base",
            "provider",
            "status",
            "capacity",
            "load",
            "waiting",
            "free_places",
            "estimated_waiting_weeks",
        ],
        "properties": {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "method": {"type": "string", "enum": list(METHODS)},
            "method_label": {"type": "string"},
            "description": {"type": "string"},
            "base": _ref("NamedRef"),
            "provider": {**_ref("NamedRef"), "description": "Tjenesten hvis team gir tiltaket"},
            "age_from": {"type": "integer", "minimum": 0},
            "age_to": {"type": "integer", "minimum": 0},
            "bti_level": {"type": "integer", "minimum": 0, "maximum": 3},
            "status": {"type": "string", "enum": list(INTERVENTION_STATUSES)},
            "status_label": {"type": "string"},
            "capacity": {"type": "integer", "minimum": 1, "description": "Antall familier samtidig"},
            "typical_weeks": {"type": "integer", "minimum": 1, "description": "Vanlig varighet for én familie"},
            "load": {"type": "integer", "minimum": 0, "description": "Familier i gang nå"},
            "waiting": {"type": "integer", "minimum": 0, "description": "Godtatte henvendelser som venter på oppstart"},
            "free_places": {"type": "integer", "minimum": 0},
            "estimated_waiting_weeks": {
                "type": "integer",
                "minimum": 0,
                "description": "Anslått ventetid i uker for en ny familie; 0 med ledig plass",
            },
            "contact": _nullable(
                {"type": "object", "properties": {"name": {"type": "string"}, "email": {"type": "string"}}}
            ),
        },
    },
    "InterventionDetail": {
        "allOf": [
            _ref("Intervention"),
            {
                "type": "object",
                "required": ["municipalities"],
                "properties": {
                    "municipalities": {
                        "type": "array",
                        "description": "Kommunene som kan be om tiltaket",
                        "items": _ref("MunicipalityRef"),
                    }
                },
            },
        ]
    },
    "Referral": {
        "type": "object",
        "required": [
            "public_id",
            "intervention",
            "sending_service",
            "family_municipality",
            "status",
            "urgency",
            "children_count",
            "child_birth_years",
            "case_reference",
            "need",
            "content_erased",
            "created_at",
            "sent_at",
            "my_sides",
            "allowed_actions",
        ],
        "properties": {
            "public_id": {"type": "string", "description": "Tilfeldig id, brukes i adresser"},
            "intervention": _ref("NamedRef"),
            "sending_service": _ref("NamedRef"),
            "family_municipality": _ref("MunicipalityRef"),
            "status": {"type": "string", "enum": list(REFERRAL_STATUSES)},
            "status_label": {"type": "string"},
            "urgency": {"type": "string", "enum": list(URGENCIES)},
            "urgency_label": {"type": "string"},
            "children_count": {"type": "integer", "minimum": 1},
            "child_birth_years": {"type": "array", "items": {"type": "integer"}},
            "bti_level": {"type": ["integer", "null"], "minimum": 0, "maximum": 3},
            "preferred_start": {"type": ["string", "null"], "format": "date"},
            "case_reference": {
                "type": ["string", "null"],
                "description": "Avsenderens egen saksreferanse; null når innholdet er slettet",
            },
            "need": {"type": ["string", "null"], "description": "Behovet; null når innholdet er slettet"},
            "content_erased": {"type": "boolean", "description": "Innholdet er slettet etter oppbevaringstiden"},
            "created_at": DATE_TIME,
            "sent_at": _nullable(DATE_TIME),
            "received_at": _nullable(DATE_TIME),
            "accepted_at": _nullable(DATE_TIME),
            "started_at": _nullable(DATE_TIME),
            "finished_at": _nullable(DATE_TIME),
            "my_sides": {
                "type": "array",
                "items": {"type": "string", "enum": ["provider", "sender"]},
                "description": "Hvilken side du står på: tjenesten som sender, tiltaksteamet, eller begge",
            },
            "allowed_actions": {
                "type": "array",
                "items": {"type": "string", "enum": list(ACTIONS)},
                "description": "Handlingene du kan gjøre nå (på nettsidene)",
            },
        },
    },
    "ReferralDetail": {
        "allOf": [
            _ref("Referral"),
            {
                "type": "object",
                "required": ["consent", "history"],
                "properties": {
                    "consent": {
                        "type": "object",
                        "required": ["given", "date", "form"],
                        "properties": {
                            "given": {"type": "boolean"},
                            "date": {"type": ["string", "null"], "format": "date"},
                            "form": {"anyOf": [{"type": "string", "enum": list(CONSENT_FORMS)}, {"type": "null"}]},
                            "form_label": {"type": ["string", "null"]},
                        },
                    },
                    "decline_reason": {"type": ["string", "null"]},
                    "outcome": {"anyOf": [{"type": "string", "enum": list(OUTCOMES)}, {"type": "null"}]},
                    "outcome_label": {"type": ["string", "null"]},
                    "outcome_note": {"type": ["string", "null"]},
                    "history": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["from_status", "to_status", "at"],
                            "properties": {
                                "from_status": {
                                    "anyOf": [{"type": "string", "enum": list(REFERRAL_STATUSES)}, {"type": "null"}]
                                },
                                "to_status": {"type": "string", "enum": list(REFERRAL_STATUSES)},
                                "at": DATE_TIME,
                                "comment": {"type": ["string", "null"]},
                            },
                        },
                    },
                },
            },
        ]
    },
    "MaterialVersion": {
        "type": "object",
        "required": ["number", "file_name", "kind", "content_type", "size", "sha256", "uploaded_at", "download_url"],
        "properties": {
            "number": {"type": "integer", "minimum": 1},
            "file_name": {"type": "string"},
            "kind": {"type": "string", "enum": list(MATERIAL_FILE_KINDS)},
            "content_type": {"type": "string", "description": "Typen lest fra innholdet i filen"},
            "size": {"type": "integer", "minimum": 1, "description": "Byte"},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "note": {"type": "string"},
            "uploaded_at": DATE_TIME,
            "download_url": {"type": "string", "description": "Nedlasting (som vedlegg) for en innlogget bruker"},
        },
    },
    "Material": {
        "type": "object",
        "required": ["id", "title", "base", "published_on", "audience", "areas", "events", "current_version", "url"],
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "author": {"type": "string"},
            "base": _ref("NamedRef"),
            "published_on": {"type": "string", "format": "date"},
            "audience": {"type": "string", "enum": list(MATERIAL_AUDIENCES)},
            "audience_label": {"type": "string"},
            "network": _nullable(_ref("NamedRef")),
            "areas": {"type": "array", "items": _ref("NamedRef")},
            "events": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "title", "starts_at"],
                    "properties": {"id": {"type": "integer"}, "title": {"type": "string"}, "starts_at": DATE_TIME},
                },
            },
            "current_version": _nullable(_ref("MaterialVersion")),
            "url": {"type": "string", "description": "Siden for materiellet"},
        },
    },
    "MaterialDetail": {
        "allOf": [
            _ref("Material"),
            {
                "type": "object",
                "required": ["versions"],
                "properties": {
                    "versions": {
                        "type": "array",
                        "items": _ref("MaterialVersion"),
                        "description": "Alle versjoner, nyeste først",
                    }
                },
            },
        ]
    },
}

# Competence (api/competence.py): the catalogue of areas and a base's matrix, counts only.
SCHEMAS.update(
    {
        "CompetenceArea": {
            "type": "object",
            "required": ["slug", "name", "kind", "kind_label", "expires_after_months"],
            "properties": {
                "slug": {"type": "string"},
                "name": {"type": "string"},
                "kind": {"type": "string", "enum": list(AREA_KINDS)},
                "kind_label": {"type": "string"},
                "description": {"type": "string"},
                "target_group": {"type": "string"},
                "expires_after_months": {
                    **_nullable({"type": "integer", "minimum": 1}),
                    "description": "Sertifiseringen utløper etter så mange måneder; null: utløper ikke",
                },
            },
        },
        "CompetenceMatrix": {
            "type": "object",
            "required": ["base", "valid_on", "filters", "areas", "municipalities", "totals"],
            "properties": {
                "base": _ref("NamedRef"),
                "valid_on": {"type": "string", "format": "date"},
                "filters": {
                    "type": "object",
                    "required": ["service_kind", "area_kind", "min_level"],
                    "properties": {
                        "service_kind": _nullable({"type": "string", "enum": list(SERVICE_KINDS)}),
                        "area_kind": _nullable({"type": "string", "enum": list(AREA_KINDS)}),
                        "min_level": {"type": "string", "enum": list(COMPETENCE_LEVELS)},
                    },
                },
                "areas": {"type": "array", "items": _ref("CompetenceArea")},
                "municipalities": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["number", "name", "counts"],
                        "properties": {
                            "number": {"type": "string"},
                            "name": {"type": "string"},
                            "counts": {
                                "type": "object",
                                "additionalProperties": {"type": "integer", "minimum": 0},
                                "description": "Antall personer med gyldig kompetanse, per kompetanseområdets slug",
                            },
                        },
                    },
                },
                "totals": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
            },
        },
    }
)

PATHS = {
    "/api/v1/counties": {
        "get": {
            "summary": "Fylker",
            "operationId": "listCounties",
            "tags": ["registry"],
            "responses": {"200": _ok(_list_of("County"))},
        }
    },
    "/api/v1/bases": {
        "get": {
            "summary": "Kompetansebaser med antall medlemskommuner",
            "operationId": "listBases",
            "tags": ["registry"],
            "responses": {"200": _ok(_list_of("Base"))},
        }
    },
    "/api/v1/bases/{slug}": {
        "get": {
            "summary": "Én kompetansebase med medlemskommuner",
            "operationId": "getBase",
            "tags": ["registry"],
            "parameters": [_path_param("slug", "Kompetansebasens slug, for eksempel namdalen")],
            "responses": {"200": _ok(_ref("BaseDetail")), "404": PROBLEM_RESPONSE},
        }
    },
    "/api/v1/municipalities": {
        "get": {
            "summary": "Kommuner (gjeldende, eller alle med historiske)",
            "operationId": "listMunicipalities",
            "tags": ["registry"],
            "parameters": [
                _query_param(
                    "include_historic",
                    "true: også kommuner som er slått sammen; bare true og false er gyldige",
                    {"type": "boolean", "default": False},
                )
            ],
            "responses": {"200": _ok(_list_of("Municipality"))},
        }
    },
    "/api/v1/municipalities/{number}": {
        "get": {
            "summary": "Én kommune med kompetansebaser, tjenester og historikk",
            "operationId": "getMunicipality",
            "tags": ["registry"],
            "parameters": [_path_param("number", "Kommunenummer", "^[0-9]{4}$")],
            "responses": {"200": _ok(_ref("MunicipalityDetail")), "404": PROBLEM_RESPONSE},
        }
    },
    "/api/v1/services": {
        "get": {
            "summary": "Tjenester med vertskommune",
            "operationId": "listServices",
            "tags": ["registry"],
            "parameters": [_query_param("kind", "Type tjeneste", {"type": "string", "enum": list(SERVICE_KINDS)})],
            "responses": {"200": _ok(_list_of("Service")), "400": PROBLEM_RESPONSE},
        }
    },
    "/api/v1/services/{slug}": {
        "get": {
            "summary": "Én tjeneste med kommunene den betjener og enhetene",
            "operationId": "getService",
            "tags": ["registry"],
            "parameters": [_path_param("slug", "Tjenestens slug")],
            "responses": {"200": _ok(_ref("ServiceDetail")), "404": PROBLEM_RESPONSE},
        }
    },
    "/api/v1/events": {
        "get": {
            "summary": "Arrangementer (fagdager, nettverksmøter, samlinger, kurs)",
            "operationId": "listEvents",
            "tags": ["events"],
            "description": "Publiserte, avlyste og gjennomførte arrangementer, og utkastene du selv planlegger. "
            "Sortert etter start.",
            "parameters": [
                _query_param(
                    "base",
                    "Kompetansebasens slug: basens egne arrangementer og møtene i nettverkene dens",
                    {"type": "string"},
                ),
                _query_param("network", "Nettverkets slug", {"type": "string"}),
                _query_param(
                    "municipality",
                    "Kommunenummer: arrangementer med denne kommunen, eller en av "
                    "kommunene den ble slått sammen av, som vertskommune. Et nummer som "
                    "ikke finnes i registeret (for eksempel 0000) gir 400",
                    {"type": "string", "pattern": "^[0-9]{4}$"},
                ),
                _query_param("kind", "Type arrangement", {"type": "string", "enum": list(EVENT_KINDS)}),
                _query_param(
                    "from",
                    "Første dag (Oslo): arrangementer som pågår denne dagen eller senere. " + DATE_WINDOW,
                    {"type": "string", "format": "date"},
                ),
                _query_param(
                    "to",
                    "Siste dag (Oslo): arrangementer som starter senest denne dagen. " + DATE_WINDOW,
                    {"type": "string", "format": "date"},
                ),
                _query_param(
                    "page",
                    "Side (fra 1); 200 arrangementer per side, total sier hvor mange i alt",
                    {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
                ),
            ],
            "responses": {"200": _ok(_page_of("Event")), "400": PROBLEM_RESPONSE},
        }
    },
    "/api/v1/events/{event_id}": {
        "get": {
            "summary": "Ett arrangement med program og antall påmeldte",
            "operationId": "getEvent",
            "tags": ["events"],
            "parameters": [EVENT_ID],
            "responses": {"200": _ok(_ref("EventDetail")), "404": PROBLEM_RESPONSE},
        }
    },
    "/api/v1/events/{event_id}/registration": {
        "post": {
            "summary": "Meld deg på (innlogget bruker)",
            "operationId": "register",
            "tags": ["events"],
            "description": "Du får plass, eller en plass på ventelisten når arrangementet er fullt. Krever "
            "innlogging (øktcookie) og headeren X-CSRFToken.",
            "security": [{"session": []}],
            "parameters": [EVENT_ID, CSRF_HEADER],
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": _ref("RegistrationRequest")}},
            },
            "responses": {
                "201": _ok(_ref("RegistrationResult"), "Påmeldt eller satt på venteliste"),
                "400": {**PROBLEM_RESPONSE, "description": "Mangler CSRF-nøkkel, eller innholdet er ikke JSON"},
                "401": {**PROBLEM_RESPONSE, "description": "Ikke logget inn"},
                "403": {**PROBLEM_RESPONSE, "description": "Arrangementet er ikke åpent for deg (målgruppe)"},
                "404": PROBLEM_RESPONSE,
                "409": {**PROBLEM_RESPONSE, "description": "Påmeldingen er stengt, eller du er allerede påmeldt"},
                "415": PROBLEM_RESPONSE,
                "422": {**PROBLEM_RESPONSE, "description": "Ugyldig felt i innholdet"},
            },
        },
        "delete": {
            "summary": "Meld deg av",
            "operationId": "cancelRegistration",
            "tags": ["events"],
            "description": "Frigjort plass går til den første på ventelisten. Krever innlogging og X-CSRFToken.",
            "security": [{"session": []}],
            "parameters": [EVENT_ID, CSRF_HEADER],
            "responses": {
                "204": {"description": "Avmeldt"},
                "400": {**PROBLEM_RESPONSE, "description": "Mangler CSRF-nøkkel"},
                "401": {**PROBLEM_RESPONSE, "description": "Ikke logget inn"},
                "404": {**PROBLEM_RESPONSE, "description": "Arrangementet finnes ikke, eller du er ikke påmeldt"},
            },
        },
    },
    "/api/v1/networks": {
        "get": {
            "summary": "Nettverk med kompetansebaser og møterytme",
            "operationId": "listNetworks",
            "tags": ["events"],
            "responses": {"200": _ok(_list_of("Network"))},
        }
    },
    "/api/v1/interventions": {
        "get": {
            "summary": "Katalogen over delte tiltak",
            "operationId": "listInterventions",
            "tags": ["referrals"],
            "description": "Aktive tiltak og tiltak på pause i alle kompetansebaser (filtrer med base), "
            "med belastning, venteliste og anslått ventetid. Krever innlogging.",
            "security": [{"session": []}],
            "parameters": [
                _query_param("base", "Kompetansebasens slug", {"type": "string"}),
                _query_param("method", "Metode", {"type": "string", "enum": list(METHODS)}),
                _query_param(
                    "q", "Søk i navn, beskrivelse og tjenesten som gir tiltaket", {"type": "string", "maxLength": 100}
                ),
            ],
            "responses": {
                "200": _ok(_list_of("Intervention")),
                "400": PROBLEM_RESPONSE,
                "401": {**PROBLEM_RESPONSE, "description": "Ikke logget inn"},
            },
        }
    },
    "/api/v1/interventions/{slug}": {
        "get": {
            "summary": "Ett tiltak med kommunene som kan be om det",
            "operationId": "getIntervention",
            "tags": ["referrals"],
            "security": [{"session": []}],
            "parameters": [_path_param("slug", "Tiltakets slug")],
            "responses": {
                "200": _ok(_ref("InterventionDetail")),
                "401": {**PROBLEM_RESPONSE, "description": "Ikke logget inn"},
                "404": PROBLEM_RESPONSE,
            },
        }
    },
    "/api/v1/referrals": {
        "get": {
            "summary": "Henvendelsene du kan se",
            "operationId": "listReferrals",
            "tags": ["referrals"],
            "description": "De samme som på siden Henvendelser: sendt fra tjenestene du jobber i, og (ikke utkast) til "
            "tiltak teamet ditt gir. Nyeste endring først, 50 per side (total sier hvor mange i alt). "
            "Hver henvendelse i lista logges som lest.",
            "security": [{"session": []}],
            "parameters": [
                _query_param(
                    "status",
                    "Bare henvendelser med denne statusen",
                    {"type": "string", "enum": list(REFERRAL_STATUSES)},
                ),
                _query_param(
                    "page", "Side (fra 1)", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}
                ),
            ],
            "responses": {
                "200": _ok(_page_of("Referral")),
                "400": PROBLEM_RESPONSE,
                "401": {**PROBLEM_RESPONSE, "description": "Ikke logget inn"},
                "403": {
                    **PROBLEM_RESPONSE,
                    "description": "Du sender ikke henvendelser og er ikke i et "
                    "tiltaksteam (koordinatorer ser bare statistikk)",
                },
            },
        }
    },
    "/api/v1/referrals/{public_id}": {
        "get": {
            "summary": "Én henvendelse",
            "operationId": "getReferral",
            "tags": ["referrals"],
            "description": "Bare for tjenesten som sendte den og teamet som gir tiltaket. Lesingen logges.",
            "security": [{"session": []}],
            "parameters": [_path_param("public_id", "Henvendelsens tilfeldige id")],
            "responses": {
                "200": _ok(_ref("ReferralDetail")),
                "404": {
                    **PROBLEM_RESPONSE,
                    "description": "Finnes ikke, eller er ikke din å se (også uten innlogging): svaret er det samme",
                },
            },
        }
    },
    "/api/v1/materials": {
        "get": {
            "summary": "Materiell (kompetansebank) du kan se",
            "operationId": "listMaterials",
            "tags": ["materials"],
            "description": "Presentasjoner, handlingsveiledere, maler og rapporter fra kompetansebasene, nyeste først: "
            "for alle innloggede, for medlemmene i basen eller i et nettverk. Bare opplysningene; filene "
            "lastes ned fra download_url. Krever innlogging.",
            "security": [{"session": []}],
            "parameters": [
                _query_param("base", "Kompetansebasens slug", {"type": "string"}),
                _query_param("q", "Søk i tittelen", {"type": "string", "maxLength": 100}),
                _query_param("area", "Kompetanseområdets slug, for eksempel pmto", {"type": "string"}),
                _query_param(
                    "event",
                    "Id-en til samlingen materiellet er fra",
                    {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                ),
            ],
            "responses": {
                "200": _ok(_list_of("Material")),
                "400": PROBLEM_RESPONSE,
                "401": {**PROBLEM_RESPONSE, "description": "Ikke logget inn"},
            },
        }
    },
    "/api/v1/materials/{material_id}": {
        "get": {
            "summary": "Ett materiell med alle versjoner",
            "operationId": "getMaterial",
            "tags": ["materials"],
            "security": [{"session": []}],
            "parameters": [
                {
                    "name": "material_id",
                    "in": "path",
                    "required": True,
                    "description": "Materiellets id",
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                }
            ],
            "responses": {
                "200": _ok(_ref("MaterialDetail")),
                "404": {
                    **PROBLEM_RESPONSE,
                    "description": "Finnes ikke, eller er ikke for deg (også uten innlogging): svaret er det samme",
                },
            },
        }
    },
    "/api/v1/competence-areas": {
        "get": {
            "summary": "Kompetanseområder (metoder, programmer og verktøy)",
            "operationId": "listCompetenceAreas",
            "tags": ["competence"],
            "parameters": [_query_param("kind", "Type kompetanseområde", {"type": "string", "enum": list(AREA_KINDS)})],
            "responses": {"200": _ok(_list_of("CompetenceArea")), "400": PROBLEM_RESPONSE},
        }
    },
    "/api/v1/bases/{slug}/competence-matrix": {
        "get": {
            "summary": "Kompetansematrisen for en kompetansebase: kommuner × kompetanseområder, bare antall",
            "operationId": "getCompetenceMatrix",
            "tags": ["competence"],
            "description": "Antall personer som jobber i hver kommune og har gyldig (ikke utløpt) kompetanse på minst "
            "valgt nivå. Aldri navn. Krever innlogging.",
            "security": [{"session": []}],
            "parameters": [
                _path_param("slug", "Kompetansebasens slug, for eksempel fosen"),
                _query_param(
                    "service_kind",
                    "Bare personer i tjenester av denne typen",
                    {"type": "string", "enum": list(SERVICE_KINDS)},
                ),
                _query_param(
                    "area_kind", "Bare kompetanseområder av denne typen", {"type": "string", "enum": list(AREA_KINDS)}
                ),
                _query_param(
                    "min_level",
                    "Laveste nivå som telles (standard trained)",
                    {"type": "string", "enum": list(COMPETENCE_LEVELS)},
                ),
            ],
            "responses": {
                "200": _ok(_ref("CompetenceMatrix")),
                "400": PROBLEM_RESPONSE,
                "401": {**PROBLEM_RESPONSE, "description": "Ikke logget inn"},
                "404": PROBLEM_RESPONSE,
            },
        }
    },
    "/api/v1/openapi.json": {
        "get": {
            "summary": "Dette dokumentet",
            "operationId": "getOpenAPI",
            "tags": ["meta"],
            "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
        }
    },
}


# Every operation may answer 400: a NUL character in the address is refused before the view (api.views._refuse_nul).
for _item in PATHS.values():
    for _operation in _item.values():
        _operation["responses"].setdefault("400", {**PROBLEM_RESPONSE, "description": "Ugyldig forespørsel"})


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
            "schemas": SCHEMAS,
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
