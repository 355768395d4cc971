"""No 500 from any input (SECURITY.md 9–11, issue 11 item 4).

Every URL of the project (walked from the resolver, filled with real objects as in the permission
matrix) is called by every role allowed to use it with hostile values in every parameter it has:
the query parameters and form fields found on the page itself (<input>/<select>/<textarea> names),
the API's query parameters and request-body fields from the OpenAPI schema, plus a few common names.
Values: NUL and other control characters, huge and non-finite numbers, dates outside the calendar,
and (for JSON APIs) a 100,000-deep array. Pass: no response is a server error.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from tests.test_permission_matrix import (
    ALLOWED,
    ROLES,
    access_for,
    routes,
    world,  # noqa: F401  (fixture)
)
from tests.test_permission_matrix import _url as url_for

HOSTILE = [
    "a\x00b",
    "\x01\x02\x1b[31m\x7f",
    "9" * 400,
    "-1e309",
    "NaN",
    "Infinity",
    "1e400",
    "-9223372036854775809",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+14:00",
    "10000-01-01",
    "abc",
    "😀" * 300,
]
COMMON = ["q", "page", "status", "version", "deadline", "appeal_deadline", "severity", "rule", "ordering",
          "format", "manufacturer", "round", "flag", "limit_price", "new_limit_price", "reason",
          "expected_version", "expected_versions", "flag_ids", "ids", "province", "label", "search", "company",
          "grounds", "statement"]  # fmt: skip
DEEP_JSON = "[" * 100_000
SKIP = ("admin:", "logout", "set_language", "login")  # Django's own views; login is fuzzed separately below


class _FieldNames(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def handle_starttag(self, tag, attrs):
        if tag in ("input", "select", "textarea"):
            name = dict(attrs).get("name")
            if name and name != "csrfmiddlewaretoken":
                self.names.add(name)


def _page_fields(response) -> set[str]:
    if "html" not in response.get("Content-Type", ""):
        return set()
    parser = _FieldNames()
    parser.feed(response.content.decode(errors="replace"))
    return parser.names


def _schema_fields() -> dict[str, set[str]]:
    """path template regex -> parameter and body field names, from the OpenAPI schema."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema.get("components", {}).get("schemas", {})
    fields: dict[str, set[str]] = {}
    for path, operations in schema["paths"].items():
        names: set[str] = set()
        for operation in operations.values():
            names |= {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
            for media in operation.get("requestBody", {}).get("content", {}).values():
                ref = media.get("schema", {}).get("$ref", "")
                names |= set(components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}))
        fields[re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"] = names
    return fields


def _api_fields(path: str, schema: dict[str, set[str]]) -> set[str]:
    return set().union(*(names for pattern, names in schema.items() if re.match(pattern, path)))


def _server_errors(client: Client, method: str, url: str, names: set[str], is_api: bool) -> list[str]:
    problems = []
    for value in HOSTILE:
        data = {name: value for name in names}
        if method == "GET":
            response = client.get(url, data)
        elif is_api:
            response = client.post(url, json.dumps(data), content_type="application/json")
        else:
            response = client.post(url, data)
        if response.status_code >= 500:
            problems.append(f"{method} {url} {sorted(names)} = {value[:20]!r}: {response.status_code}")
    if is_api and method == "POST":
        response = client.post(url, DEEP_JSON, content_type="application/json")
        if response.status_code >= 500:
            problems.append(f"POST {url} deep JSON: {response.status_code}")
        elif response.status_code not in (400, 403, 404, 405, 415):
            problems.append(f"POST {url} deep JSON answered {response.status_code}, expected a refusal")
    return problems


@pytest.mark.slow
def test_no_server_error_from_hostile_parameters(world):  # noqa: F811
    objects, users = world
    schema = _schema_fields()
    problems: list[str] = []
    called = 0
    for route in sorted(routes(), key=lambda r: r.name):
        if route.name.startswith(SKIP) or access_for(route.name) is None:
            continue
        url = url_for(route, objects)
        rule = access_for(route.name)
        for role in ROLES[1:]:
            client = Client(raise_request_exception=False)
            client.force_login(users[role])
            for method in ("GET", "POST"):
                access = rule if isinstance(rule, str) else rule[method == "POST"]
                if role not in ALLOWED[access]:
                    continue
                names = set(COMMON)
                if route.is_api:
                    names |= _api_fields("/" + url.lstrip("/"), schema)
                else:
                    names |= _page_fields(client.get(url))
                problems += _server_errors(client, method, url, names, route.is_api)
                called += 1
    assert called > 50
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_login_with_control_characters_is_refused_cleanly(client):
    for value in HOSTILE:
        response = client.post("/accounts/login/", {"username": value, "password": value})
        assert response.status_code in (200, 400, 403, 429), value
