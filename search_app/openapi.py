"""The OpenAPI 3.0 document of the JSON API (served at /api/openapi.json)."""

from __future__ import annotations

from typing import Any

from indexer.schema import FACET_TABLE
from search_app.search import MAX_PER_PAGE, SORTS

_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
_FACET_VALUE = {
    "type": "object",
    "required": ["value", "label", "count", "matching", "selected", "toggle_url"],
    "properties": {
        "value": {"type": "string"},
        "label": {"type": "string"},
        "count": {"type": "integer", "description": "résultats en choisissant la valeur (hors filtres de sa facette)"},
        "matching": {"type": "integer", "description": "résultats actuels (tous filtres appliqués) ayant cette valeur"},
        "selected": {"type": "boolean"},
        "toggle_url": {"type": "string", "description": "cette recherche dans l’API, la valeur ajoutée ou retirée"},
    },
}
_STRINGS = {"type": "array", "items": {"type": "string"}}
#: The region and countries as HTML: escaped text, <mark> on the names the query matched.
_HIGHLIGHTED = {
    "type": "object",
    "required": ["region", "countries"],
    "properties": {"region": {"type": "string"}, "countries": _STRINGS},
}
_RESULT = {
    "type": "object",
    "required": ["id", "title", "url", "region", "countries", "status", "score", "snippets", "matched", "highlighted"],
    "properties": {
        "id": {"type": "string"},
        "title": {"type": "string"},
        "url": {"type": "string"},
        "region": {"type": "string"},
        "countries": _STRINGS,
        "status": {"type": "string"},
        "score": {"type": "number", "nullable": True},
        "snippets": {"type": "object", "additionalProperties": {"type": "string"}},
        "matched": {"type": "object", "additionalProperties": _STRINGS},
        "highlighted": _HIGHLIGHTED,
    },
}
_SEARCH = {
    "type": "object",
    "required": ["query", "understood_as", "fallback", "total", "page", "per_page", "results", "facets", "suggestion"],
    "properties": {
        "query": {"type": "string"},
        "understood_as": {"type": "string"},
        "notices": _STRINGS,
        "fallback": {"type": "string", "nullable": True, "enum": ["or", None]},
        "total": {"type": "integer", "minimum": 0},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
        "sort": {"type": "string", "enum": list(SORTS)},
        "results": {"type": "array", "items": _RESULT},
        "facets": {
            "type": "object",
            "required": [facet.name for facet in FACET_TABLE],
            "additionalProperties": {"type": "array", "items": _FACET_VALUE},
        },
        "suggestion": {"type": "string", "nullable": True},
    },
}
_PROGRAMME = {
    "type": "object",
    "required": ["id", "title", "region", "countries", "status", "description", "objectives", "notes", "source"],
    "properties": {
        "id": {"type": "string"},
        "title": {"type": "string"},
        "region": {"type": "string"},
        "countries": _STRINGS,
        "status": {"type": "string"},
        "description": _STRINGS,
        "objectives": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["section", "heading", "text"],
                "properties": {
                    "section": {"type": "string"},
                    "heading": {"type": "string"},
                    "text": {"type": "string"},
                },
            },
        },
        "notes": _STRINGS,
        "source": {"type": "string"},
        "source_url": {"type": "string", "description": "the programme's own page (http or https), empty when unknown"},
        "similar": {"type": "array", "items": {"type": "object"}},
    },
}
_SUGGEST = {
    "type": "object",
    "required": ["query", "suggestions"],
    "properties": {
        "query": {"type": "string"},
        "suggestions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["text", "kind"],
                "properties": {
                    "text": {"type": "string", "description": "Texte affiché, mis tel quel dans la zone de recherche."},
                    "kind": {
                        "type": "string",
                        "enum": ["country", "region", "word", "programme"],
                        "description": "Nom de pays ou de région (en un seul texte, « Côte d’Ivoire »), mot, "
                        "ou titre de programme.",
                    },
                    "url": {"type": "string", "description": "Fiche du programme (programmes seulement)."},
                    "replaces": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "Nombre de mots de la fin de q que le texte remplace (sauf programmes).",
                    },
                },
            },
        },
    },
}
#: OpenSearch Suggestions 1.1: [query, completions, descriptions, query URLs] (OpenAPI 3.0 has no tuples).
_OPENSEARCH_SUGGESTIONS = {
    "type": "array",
    "minItems": 4,
    "maxItems": 4,
    "items": {"oneOf": [{"type": "string"}, _STRINGS]},
    "description": "q tel qu’envoyé, puis les requêtes complètes proposées (mots tapés, le dernier complété, "
    "ou titre de programme), leur nature («\u00a0pays\u00a0», «\u00a0région\u00a0», «\u00a0programme\u00a0» "
    "ou vide pour un mot) et l’adresse de leurs résultats ou de la fiche.",
}
_HEALTH = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "unavailable"]},
        "documents": {"type": "integer"},
        "index": {"type": "string"},
        "error": {"type": "string"},
    },
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _facet_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "description": description + " (répétable ; insensible aux accents et à la casse)",
        "schema": {"type": "array", "items": {"type": "string"}},
        "style": "form",
        "explode": True,
    }


_SEARCH_PARAMETERS = [
    {"name": "q", "in": "query", "description": "requête (voir /aide)", "schema": {"type": "string"}},
    *(_facet_param(facet.name, facet.label.lower()) for facet in FACET_TABLE),
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10000}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}},
    {"name": "sort", "in": "query", "schema": {"type": "string", "enum": list(SORTS)}},
    {
        "name": "format",
        "in": "query",
        "description": "json (défaut) ou csv\u00a0: tout le jeu de résultats (toutes les pages), pour Excel et "
        "LibreOffice en français (UTF-8 avec BOM, séparateur «\u00a0;\u00a0», fins de ligne CRLF)\u00a0; colonnes "
        "identifiant, titre, région, pays, statut, thèmes, lien, objectifs, description, notes",
        "schema": {"type": "string", "enum": ["json", "csv"]},
    },
]
_UNAVAILABLE = _json(_ERROR, "index indisponible")


def _search_path() -> dict[str, Any]:
    generation = {"description": "génération de l’index qui a répondu (JSON)", "schema": {"type": "string"}}
    found = {
        "description": "résultats",
        "headers": {"X-Index-Generation": generation},
        "content": {"application/json": {"schema": _SEARCH}, "text/csv": {"schema": {"type": "string"}}},
    }
    return {
        "get": {
            "summary": "Rechercher des programmes",
            "parameters": _SEARCH_PARAMETERS,
            "responses": {"200": found, "400": _json(_ERROR, "paramètre invalide"), "503": _UNAVAILABLE},
        }
    }


def _programme_path() -> dict[str, Any]:
    return {
        "get": {
            "summary": "Une fiche programme complète",
            "parameters": [{"name": "programme_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": _json(_PROGRAMME, "fiche"),
                "404": _json(_ERROR, "inconnu"),
                "503": _UNAVAILABLE,
            },
        }
    }


def _suggest_path() -> dict[str, Any]:
    found = {
        "description": "suggestions",
        "content": {
            "application/json": {"schema": _SUGGEST},
            "application/x-suggestions+json": {"schema": _OPENSEARCH_SUGGESTIONS},
        },
    }
    output = {
        "name": "format",
        "in": "query",
        "description": "json (défaut) ou opensearch\u00a0: le format OpenSearch Suggestions 1.1 "
        "(application/x-suggestions+json) que lisent les navigateurs, annoncé par /opensearch.xml",
        "schema": {"type": "string", "enum": ["json", "opensearch"]},
    }
    return {
        "get": {
            "summary": "Autocomplétion",
            "description": "Noms de pays et de régions, puis mots du corpus (jamais un mot vide, dans "
            "leur casse usuelle), puis titres de programmes commençant par q\u00a0; accents et casse "
            "ignorés.",
            "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}, output],
            "responses": {"200": found, "400": _json(_ERROR, "paramètre invalide"), "503": _UNAVAILABLE},
        }
    }


def openapi_document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    health = {
        "summary": "État du service",
        "responses": {"200": _json(_HEALTH, "en service"), "503": _json(_HEALTH, "index indisponible")},
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Recherche UE-OIM",
            "version": "1.0.0",
            "description": "Recherche dans les programmes UE-OIM.",
        },
        "paths": {
            "/api/search": _search_path(),
            "/api/programmes/{programme_id}": _programme_path(),
            "/api/suggest": _suggest_path(),
            "/healthz": {"get": health},
        },
    }
