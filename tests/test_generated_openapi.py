"""The generated OpenAPI document: valid OpenAPI 3.1, lint-clean, and true to what the app does.

Validity: openapi-spec-validator against the OpenAPI 3.1 schema. Lint: Redocly's CLI,
installed from the npm registry once into the repo's .cache/ (never committed); it skips
when npm is missing, unless KEEL_REQUIRE_LINT=1 (CI), where that is a failure.
Conformance: the catalog app is served, and real answers (bodies, statuses, headers)
are checked against the document, so the document cannot drift from the routers.
Docs: /docs is Swagger UI with every asset served by the app itself, and
/openapi.json is the packaged file; neither exists when the docs are off.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.openapi.utils import get_openapi
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import create_engine

from generator.formatting import format_python
from generator.generate import _environment
from generator.ir import build_ir
from generator.pipeline import validate_path
from generator.targets.anonymous import refuses_anonymous
from generator.targets.app import router_context
from generator.targets.openapi import SERVED, openapi_document
from tests.conftest import REPO
from tests.npm_tools import npm_install
from tests.generated_app import import_package_module, render_into
from tests.test_generated_api import pg_database  # noqa: F401  (a fixture: a fresh PostgreSQL database)

CATALOG = REPO / "tests/specs/catalog"
EXAMPLES = {"catalog": CATALOG, "tasks": REPO / "specs/tasks", "expenses": REPO / "specs/expenses"}
REDOCLY_VERSION = "2.77.0"
# Redocly's `recommended-strict` (every recommended rule an error), plus stricter rules that fit.
LINT_CONFIG = """\
extends:
  - recommended-strict
rules:
  # The Keel spec has no license field, and the generator must not invent one.
  info-license: off
  operation-description: error
  operation-tag-defined: error
  no-invalid-schema-examples: error
  no-invalid-parameter-examples: error
  no-required-schema-properties-undefined: error
  no-schema-type-mismatch: error
  component-name-unique: error
  array-parameter-serialization: error
  no-duplicated-tag-names: error
  spec-strict-refs: error
  response-contains-header:
    severity: error
    names:
      '2XX': [X-Request-ID]
      '4XX': [X-Request-ID]
      '5XX': [X-Request-ID]
"""
# Every 4xx is problem+json, unless the spec asked for field-map validation errors (plain JSON by design).
PROBLEM_RULE = "  operation-4xx-problem-details-rfc7807: error\n"
# The other switches a spec has: envelopes, offset pages, camelCase, field-map errors, 400 for validation.
VARIANT_API = """api:
  envelope: true
  pagination: offset
  wire_names: camelCase
  auth_scheme: Token
  errors: {format: field_map, validation_status: 400}
"""


def _ir(spec: Path):
    result = validate_path(spec)
    assert result.ok, result.diagnostics
    return build_ir(result.spec, result.source_map, result.root)


@pytest.fixture(scope="module")
def specs(tmp_path_factory) -> dict[str, Path]:
    """The example specs, the catalog, and variants of them with every other API convention."""
    root = tmp_path_factory.mktemp("specs")
    variant = root / "variant"
    variant.mkdir()
    text = (CATALOG / "keel.yaml").read_text().replace("name: catalog", "name: variant")
    (variant / "keel.yaml").write_text(text.replace("api:\n", VARIANT_API, 1))
    signed = root / "signed"  # auth-bound operations with a non-Bearer scheme and field-map errors
    signed.mkdir()
    text = (REPO / "specs/tasks/keel.yaml").read_text().replace("name: tasks", "name: signed", 1)
    signed_api = "api:\n  auth_scheme: Token\n  errors: {format: field_map}\n"
    (signed / "keel.yaml").write_text(text.replace("api:\n", signed_api, 1))
    return {**EXAMPLES, "variant": variant, "signed": signed}


@pytest.fixture(scope="module")
def documents(specs) -> dict[str, dict[str, Any]]:
    return {name: openapi_document(_ir(path)) for name, path in specs.items()}


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"  # as JsonFile is written


# --- the document itself -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["catalog", "tasks", "expenses", "variant", "signed"])
def test_document_is_valid_openapi_3_1(documents, name):
    document = documents[name]
    assert document["openapi"] == "3.1.0"
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []


def test_document_is_deterministic(specs):
    first = _dump(openapi_document(_ir(specs["tasks"])))
    assert first == _dump(openapi_document(_ir(specs["tasks"])))


@pytest.mark.parametrize("name", ["catalog", "tasks", "expenses", "variant", "signed"])
def test_document_describes_exactly_the_served_operations_and_parameters(specs, documents, name):
    ir = _ir(specs[name])
    document = documents[name]
    expected = {(ep.method.lower(), ep.path): ep.operation_id for e in ir.entities for ep in e.endpoints
                if ep.kind in SERVED + ("transition", "action", "query")}
    for e in ir.entities:  # routers/<entity>_workflow.py also lists a record's approvals
        if e.workflow and any(t.approvals for t in e.workflow.transitions):
            expected[("get", f"{e.collection_path}/{{{e.lookup}}}/approvals")] = f"approvals_{e.module}"
    if ir.auth is not None:  # the sign-in router's endpoints
        expected[("post", f"{ir.prefix}/auth/login")] = "login"
        expected[("get", f"{ir.prefix}/me")] = "get_me"
        if ir.auth.signup:
            expected[("post", f"{ir.prefix}/auth/signup")] = "signup"
    from generator.targets.trail import trail_context  # routers/trail.py: audit history, notification inbox

    trail = trail_context(ir)
    for h in trail["history"]:
        expected[("get", h["path"])] = h["operation_id"]
    if trail["has_notifications"]:
        expected[("get", trail["inbox_path"])] = "list_my_notifications"
        expected[("post", trail["inbox_path"] + "/{id}/read")] = "read_my_notification"
    described = {(method, path): op["operationId"] for path, item in document["paths"].items()
                 for method, op in item.items()}
    assert described == expected
    for e in ir.entities:
        context = router_context(ir, e, "")
        for ep in e.endpoints:
            if ep.kind == "list":
                names = {p["name"] for p in _parameters(document, ep.path, "get") if p["in"] == "query"}
                # the router's LIST_PARAMS, less `include` when nothing is includable (any value is refused)
                assert names == set(context["list_params"]) - ({"include"} if not context["e"].includes else set())
            if ep.kind in SERVED:
                op = document["paths"][ep.path][ep.method.lower()]
                access = dict(e.access)[ep.kind]
                assert ("401" in op["responses"]) == (access == "authenticated")
                refusable_write = access == "authenticated" and ep.kind in ("create", "update", "delete")
                assert ("403" in op["responses"]) == (access == "denied" or refusable_write)
                # Lists and reads answer anonymous requests (with what the rules show nobody), so sign-in is
                # optional there (`{}`); writes no anonymous request can pass refuse them with 401 first.
                required = ep.kind not in ("list", "read") and refuses_anonymous(ir, e, ep.kind)
                signed = [{ir.auth_scheme: []}] if required else [{ir.auth_scheme: []}, {}]
                assert op["security"] == (signed if access == "authenticated" else [])
    schemes = document["components"].get("securitySchemes", {})
    if any(access == "authenticated" for e in ir.entities for _, access in e.access):
        expected_scheme = ({"type": "http", "scheme": "bearer"} if ir.auth_scheme == "Bearer" else
                           {"type": "apiKey", "in": "header", "name": "Authorization"})
        assert {k: v for k, v in schemes[ir.auth_scheme].items() if k != "description"} == expected_scheme
    else:
        assert schemes == {}
    assert document["info"]["x-generated-by"] == "keel"
    assert document["info"]["description"].endswith("change the spec and run `keel generate`.")


BOARD_SPEC = """\
keel: 1
app: {name: board, title: Board, version: "1.0.0"}
api: {prefix: /api}
auth: {user: User, identity: email, password: password, roles: [admin, member]}
entities:
  User:
    fields:
      email: {type: email, unique: true}
      password: {type: password}
    permissions: {all: "user != null"}
  Note:
    fields:
      title: string
      open: {type: boolean, default: false}
      owner: {type: ref, to: User, auto: current_user}
      editor: {type: ref, to: User, required: false}
    permissions:
      list: "true"
      read: "true"
      create: user != null and user.role in ['admin', 'member']
      update: record.open or user == record.owner
      delete: user == record.editor
"""


def test_only_writes_no_anonymous_request_can_pass_require_sign_in(tmp_path):
    """Found by Schemathesis (ignored_auth, missing_required_header): an anonymous write got 404 or 422 where the
    document promised 401. Now a write whose every rule needs a user answers 401 first; one whose rules may let
    an anonymous request through (an open note; an unassigned editor equals the missing user) says sign-in is
    optional."""
    (tmp_path / "keel.yaml").write_text(BOARD_SPEC)
    ir = _ir(tmp_path)
    note = next(e for e in ir.entities if e.name == "Note")
    assert {op: refuses_anonymous(ir, note, op) for op in ("create", "update", "delete")} == {
        "create": True, "update": False, "delete": False}
    paths = openapi_document(ir)["paths"]
    assert paths["/api/notes"]["post"]["security"] == [{"Bearer": []}]
    assert paths["/api/notes/{id}"]["patch"]["security"] == [{"Bearer": []}, {}]
    assert paths["/api/notes/{id}"]["delete"]["security"] == [{"Bearer": []}, {}]


def test_validation_status_and_field_map_shape_the_error_responses(documents):
    variant = documents["variant"]
    listing = variant["paths"]["/api/products"]["get"]["responses"]
    assert "422" not in listing and set(listing["400"]["content"]) == {"application/json"}
    create = variant["paths"]["/api/products"]["post"]["responses"]["400"]["content"]
    assert set(create) == {"application/json", "application/problem+json"}  # malformed JSON stays a problem
    assert create["application/json"]["schema"] == {"$ref": "#/components/schemas/FieldErrors"}
    page = variant["components"]["schemas"]["ProductPage"]
    assert page["required"] == ["products", "productsCount"]
    body = variant["paths"]["/api/products"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["product"] and body["additionalProperties"] is False


def test_embedded_entity_schemas_are_the_published_ones_without_their_own_identity(specs, documents):
    from generator.targets.jsonschemas import entity_schemas

    schemas = documents["catalog"]["components"]["schemas"]
    for name, published in entity_schemas(_ir(specs["catalog"])):
        entity, shape = name.split(".")
        embedded = schemas[f"{entity}{shape.title()}"]
        assert embedded == {k: v for k, v in published.items() if k not in ("$schema", "$id", "$comment")}


@pytest.mark.parametrize("whole,scale,low,high", [
    (10, 2, "0", None), (10, 2, "0.01", "100000"), (4, 2, "-12.5", "7.05"), (3, 0, "5", "120"),
    (5, 3, "1.005", None), (2, 2, None, "-0.5"), (3, 1, "-3", "0"), (6, 2, "99.99", "100.01"),
])
def test_a_decimal_pattern_says_exactly_which_values_the_app_accepts(whole, scale, low, high):
    """JSON Schema cannot bound a number sent as a string, so the bounds are in the pattern (found by
    Schemathesis: "-6439" matched the old pattern of a price with min 0, and the app refused it)."""
    import decimal
    import random

    from generator.ir.decimal_range import bounded_decimal_pattern

    pattern = re.compile(bounded_decimal_pattern(whole, scale, low, high))
    shape = re.compile(rf"-?[0-9]{{1,{whole}}}" + (rf"(\.[0-9]{{1,{scale}}})?" if scale else ""))

    def accepted(text: str) -> bool:  # what wire.decimal_type in the app accepts
        if not shape.fullmatch(text):
            return False
        value = decimal.Decimal(text)
        return (low is None or value >= decimal.Decimal(low)) and (high is None or value <= decimal.Decimal(high))

    rng = random.Random(whole * 100 + scale)
    samples = {"0", "-0", "00", "0.0", "-0.00", ".5", "5.", "-", "", "1e3"}
    for bound in filter(None, (low, high)):
        step = decimal.Decimal(1).scaleb(-scale)
        for k in range(-3, 4):
            text = format(decimal.Decimal(bound) + k * step, "f")
            samples |= {text, "-" + text.lstrip("-"), "0" + text.lstrip("-"), text.rstrip("0")}
    for _ in range(20000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, whole + scale + 2)))
        if scale and rng.random() < 0.6:
            at = rng.randint(1, len(digits))
            digits = digits[:at] + "." + digits[at:]
        samples.add(("-" if rng.random() < 0.4 else "") + digits)
    wrong = sorted(t for t in samples if bool(pattern.fullmatch(t)) != accepted(t))
    assert wrong == []


def test_bounded_decimals_in_the_documents(documents):
    amount = documents["expenses"]["components"]["schemas"]["ExpenseLineCreate"]["properties"]["amount"]
    pattern = re.compile(amount["pattern"])
    assert [bool(pattern.fullmatch(v)) for v in ("0.01", "100000", "100000.00", "42.5")] == [True] * 4
    assert [bool(pattern.fullmatch(v)) for v in ("0", "0.00", "-1", "100000.01", "1e3")] == [False] * 5
    price = documents["catalog"]["components"]["schemas"]["ProductCreate"]["properties"]["price"]
    assert re.fullmatch(price["pattern"], "-0") and not re.fullmatch(price["pattern"], "-6439")


# --- Redocly -------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redocly() -> Path:
    """Redocly's CLI at a pinned version, installed once into .cache/ (git-ignored by its own .gitignore)."""
    binary = Path("node_modules/.bin/redocly")
    return npm_install("Redocly lint", f"redocly-cli-{REDOCLY_VERSION}", [f"@redocly/cli@{REDOCLY_VERSION}"],
                       binary) / binary


def test_documents_lint_clean_with_redocly(redocly, documents, specs, tmp_path):
    groups: dict[bool, list[Path]] = {True: [], False: []}
    for name, document in documents.items():
        path = tmp_path / f"{name}.openapi.json"
        path.write_text(_dump(document))
        groups[_ir(specs[name]).error_format == "problem"].append(path)
    env = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "NO_COLOR": "1"}
    for problem_format, paths in groups.items():
        config = tmp_path / f"redocly-{problem_format}.yaml"
        config.write_text(LINT_CONFIG + (PROBLEM_RULE if problem_format else ""))
        result = subprocess.run([str(redocly), "lint", *map(str, paths), "--config", str(config), "--format=json"],
                                capture_output=True, text=True, timeout=300, check=False, env=env)
        reports = _json_stream(result.stdout)  # one report per file
        assert len(reports) == len(paths), result.stdout[-2000:] + result.stderr[-2000:]
        found = [f"{p['ruleId']} ({p['severity']}): {p['message']} at {p['location'][0]['pointer']}"
                 for report in reports for p in report["problems"]]
        assert found == [] and result.returncode == 0, "\n".join(found) or result.stderr[-2000:]
        assert all(r["totals"] == {"errors": 0, "warnings": 0, "ignored": 0} for r in reports)


def _json_stream(text: str) -> list[Any]:
    decoder, out, at = json.JSONDecoder(), [], 0
    while text[at:].strip():
        value, at = decoder.raw_decode(text, len(text) - len(text[at:].lstrip()))
        out.append(value)
    return out


# --- the served app ------------------------------------------------------------------------------------


def render_app(spec: Path, out: Path) -> None:
    """Render the app; until plan_files and app.py ship the docs, add openapi.json and docs.py here."""
    files = render_into(spec, out)
    ir = _ir(spec)
    package = ir.package
    if f"{package}/openapi.json" not in files:
        (out / package / "openapi.json").write_text(_dump(openapi_document(ir)), encoding="utf-8")
    if f"{package}/docs.py" not in files:
        from generator.targets import header

        text = _environment().get_template("app/package/docs.py.j2").render(
            header=header(ir), package=package, title=ir.title)
        (out / package / "docs.py").write_text(format_python(text), encoding="utf-8")


def make_client(spec: Path, out: Path, database_url: str, environ: dict[str, str] | None = None) -> TestClient:
    package = _ir(spec).package
    render_app(spec, out)
    models = import_package_module(out, f"{package}.models")
    app_module = import_package_module(out, f"{package}.app", fresh=False)
    settings_module = import_package_module(out, f"{package}.settings", fresh=False)
    docs_module = import_package_module(out, f"{package}.docs", fresh=False)
    engine = create_engine(database_url)
    models.Base.metadata.drop_all(engine)
    models.Base.metadata.create_all(engine)
    engine.dispose()
    settings = settings_module.load_settings({"DATABASE_URL": database_url, "APP_MAX_BODY_BYTES": "4096",
                                              **(environ or {})})
    app = app_module.create_app(settings)
    if not hasattr(app_module, "install_docs"):  # app.py does not wire the docs yet
        docs_module.install_docs(app, settings.docs_enabled)
    return TestClient(app, raise_server_exceptions=False)


def _registry(document: dict[str, Any]) -> Registry:
    return Registry().with_resource("urn:keel:openapi", Resource(contents=document, specification=DRAFT202012))


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _parameters(document: dict[str, Any], path: str, method: str) -> list[dict[str, Any]]:
    out = []
    for p in document["paths"][path][method]["parameters"]:
        if "$ref" in p:
            p = document["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]
        out.append(p)
    return out


class Conformance:
    """Checks real answers against the document: status documented, body valid, promised headers sent."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.registry = _registry(document)
        self.checked: set[tuple[str, str, str]] = set()

    def __call__(self, response, template: str) -> Any:
        method = response.request.method.lower()
        operation = self.document["paths"][template][method]
        status = str(response.status_code)
        assert status in operation["responses"], f"{method.upper()} {template} answered undocumented {status}"
        described = operation["responses"][status]
        location = ("paths", template, method, "responses", status)
        if "$ref" in described:
            name = described["$ref"].rsplit("/", 1)[1]
            described = self.document["components"]["responses"][name]
            location = ("components", "responses", name)
        for header, spec in described.get("headers", {}).items():
            if "$ref" in spec:
                spec = self.document["components"]["headers"][spec["$ref"].rsplit("/", 1)[1]]
            if spec.get("required"):
                assert header.lower() in response.headers, f"{method} {template} {status}: no {header} header"
            if header.lower() in response.headers:  # and its value is one the document allows
                value: Any = response.headers[header.lower()]
                if spec["schema"].get("type") == "integer":
                    value = int(value) if value.isdigit() else value
                errors = list(Draft202012Validator(spec["schema"]).iter_errors(value))
                assert errors == [], f"{method.upper()} {template} {status}: {header}: {value!r} {errors[0].message}"
        if not response.content:
            assert "content" not in described
            return None
        media = response.headers["content-type"].split(";")[0].strip()
        assert media in described["content"], f"{method} {template} {status}: undocumented {media}"
        pointer = "urn:keel:openapi#/" + _pointer(*location, "content", media, "schema")
        validator = Draft202012Validator({"$ref": pointer}, registry=self.registry,
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
        body = response.json()
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
        assert errors == [], f"{method.upper()} {template} {status}: {errors}"
        self.checked.add((method, template, status))
        return body


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.db'}"
    return request.getfixturevalue("pg_database")


def test_catalog_answers_conform_to_the_document(tmp_path, database_url, documents):
    document = documents["catalog"]
    check = Conformance(document)
    with make_client(CATALOG, tmp_path / "out", database_url) as client:
        supplier = check(client.post("/api/suppliers", json={"name": "Acme Tools", "email": "a@acme.test"}),
                         "/api/suppliers")
        lonely = check(client.post("/api/suppliers", json={"name": "Nobody"}), "/api/suppliers")
        product = check(client.post("/api/products", json={
            "name": "Hammer", "sku": "HAM-0001", "price": "12.50", "supplier_id": supplier["id"],
            "available_from": "2024-05-01", "attributes": {"weight": 1.5}}), "/api/products")
        check(client.post("/api/products", json={"name": "Saw", "sku": "SAW-0001", "price": "20.00",
                                                  "supplier_id": supplier["id"]}), "/api/products")
        page = check(client.get("/api/products", params={"limit": 1, "include": "supplier"}), "/api/products")
        assert page["next_cursor"] and page["items"][0]["supplier"]["id"] == supplier["id"]
        last = check(client.get("/api/products", params={"limit": 1, "cursor": page["next_cursor"]}), "/api/products")
        assert last["next_cursor"] is None
        check(client.get("/api/products", params={"category__in": "tools,garden", "price__gte": "1",
                                                  "sort": "-price,name"}), "/api/products")
        check(client.get(f"/api/products/{product['id']}"), "/api/products/{id}")
        check(client.get(f"/api/suppliers/{supplier['slug']}", params={"include": "products"}),
              "/api/suppliers/{slug}")
        check(client.patch(f"/api/products/{product['id']}", json={"stock": 3}, headers={"If-Match": '"v1"'}),
              "/api/products/{id}")
        # errors, each as documented
        check(client.patch(f"/api/products/{product['id']}", json={"stock": 4}, headers={"If-Match": '"v1"'}),
              "/api/products/{id}")  # 412
        for params in ({"limit": "0"}, {"sort": "sku"}, {"colour": "red"}, {"price__gte": "cheap"}):
            check(client.get("/api/products", params=params), "/api/products")  # 422
        check(client.get("/api/products", params={"cursor": "nope"}), "/api/products")  # 400
        check(client.post("/api/products", json={"name": "X", "sku": "BAD", "price": 1.5}), "/api/products")  # 422
        check(client.post("/api/products", json={"name": "X", "sku": "ABC-0001", "price": "1.00",
                                                  "supplier_id": str(uuid.uuid4())}), "/api/products")  # 422 ref
        check(client.post("/api/products", json={"name": "Other", "sku": "HAM-0001", "price": "1.00",
                                                  "supplier_id": supplier["id"]}), "/api/products")  # 409
        check(client.post("/api/suppliers", content=b"{nope", headers={"content-type": "application/json"}),
              "/api/suppliers")  # 400
        check(client.post("/api/suppliers", content=b"name=x", headers={"content-type": "text/plain"}),
              "/api/suppliers")  # 415
        check(client.post("/api/suppliers", json={"name": "x" * 5000}), "/api/suppliers")  # 413
        check(client.patch(f"/api/suppliers/{supplier['slug']}", json={}), "/api/suppliers/{slug}")  # 422 empty
        check(client.get(f"/api/products/{uuid.uuid4()}"), "/api/products/{id}")  # 404
        check(client.get("/api/suppliers/no-such-supplier"), "/api/suppliers/{slug}")  # 404
        check(client.delete(f"/api/products/{product['id']}"), "/api/products/{id}")  # 403: delete is false
        check(client.delete(f"/api/suppliers/{supplier['slug']}"), "/api/suppliers/{slug}")  # 409 referenced
        check(client.delete(f"/api/suppliers/{lonely['slug']}"), "/api/suppliers/{slug}")  # 204
        # FastAPI's own view of the routes (its public API, whatever its internal structure): the docs
        # routes are excluded from it, and every API route must be in our document.
        routes = get_openapi(title="routes", version="0", routes=client.app.routes)["paths"]
        served = {(method, path) for path, item in routes.items() for method in item}
    assert served == {(m, p) for p, item in document["paths"].items() for m in item}
    statuses = {status for _, _, status in check.checked}
    assert {"200", "201", "400", "403", "404", "409", "412", "413", "415", "422"} <= statuses


def test_variant_conventions_conform_to_the_document(tmp_path, specs, documents):
    """Envelopes, offset pages, camelCase keys, field-map validation errors with status 400."""
    check = Conformance(documents["variant"])
    with make_client(specs["variant"], tmp_path / "out", f"sqlite:///{tmp_path / 'app.db'}") as client:
        supplier = check(client.post("/api/suppliers", json={"supplier": {"name": "Acme"}}), "/api/suppliers")
        supplier_id = supplier["supplier"]["id"]
        created = check(client.post("/api/products", json={"product": {
            "name": "Hammer", "sku": "HAM-0001", "price": "1.00", "supplierId": supplier_id}}), "/api/products")
        page = check(client.get("/api/products", params={"include": "supplier"}), "/api/products")
        assert page["productsCount"] == 1
        check(client.get(f"/api/products/{created['product']['id']}"), "/api/products/{id}")
        fields = check(client.get("/api/products", params={"limit": "0"}), "/api/products")  # 400, field map
        assert fields == {"errors": {"limit": ["must be an integer from 1 to 200"]}}
        check(client.post("/api/products", json={"product": {"name": "X"}}), "/api/products")  # 400, field map
        check(client.post("/api/products", content=b"{", headers={"content-type": "application/json"}),
              "/api/products")  # 400, problem
        check(client.patch(f"/api/products/{created['product']['id']}", json={"product": {"stock": 2}}),
              "/api/products/{id}")
        check(client.get(f"/api/products/{uuid.uuid4()}"), "/api/products/{id}")  # 404


def test_auth_bound_operations_answer_as_documented(tmp_path, specs, documents):
    check = Conformance(documents["signed"])
    with make_client(specs["signed"], tmp_path / "out", f"sqlite:///{tmp_path / 'app.db'}") as client:
        response = client.get("/api/tasks")  # anonymous: the list rule shows nothing, it leaks nothing
        check(response, "/api/tasks")
        assert response.status_code == 200 and response.json()["items"] == []
        refused = client.post("/api/projects", json={"name": "x"})  # needs a signed-in owner
        check(refused, "/api/projects")
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Token"


def test_sign_in_endpoints_answer_as_documented(tmp_path, database_url, documents):
    """/auth/signup, /auth/login and /me: every answer they give, as the document describes it."""
    document = documents["tasks"]
    assert {"/api/auth/login", "/api/auth/signup", "/api/me"} <= set(document["paths"])
    check = Conformance(document)
    login, signup, me = "/api/auth/login", "/api/auth/signup", "/api/me"
    password = "correct horse battery staple"
    with make_client(EXAMPLES["tasks"], tmp_path / "out", database_url) as client:
        created = check(client.post(signup, json={"email": "ada@example.test", "name": "Ada", "password": password}),
                        signup)
        assert created["user"]["role"] == "member" and created["token_type"] == "bearer"
        check(client.post(signup, json={"email": "ada@example.test", "name": "Ada", "password": password}),
              signup)  # 409
        for body in ({"email": "eve@example.test", "name": "Eve", "password": password, "role": "admin"},
                     {"email": "eve@example.test", "name": "Eve", "password": "short"}, {"email": "eve@example.test"}):
            assert check(client.post(signup, json=body), signup)["status"] == 422
        token = check(client.post(login, json={"email": "ada@example.test", "password": password}), login)
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        assert check(client.get(me, headers=headers), me)["email"] == "ada@example.test"
        for bad in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
            response = client.get(me, headers=bad)
            assert check(response, me)["status"] == 401 and response.headers["www-authenticate"].startswith("Bearer")
        # a list or read with a token that is not valid is refused too, as documented
        assert check(client.get("/api/tasks", headers={"Authorization": "Bearer x.y.z"}), "/api/tasks")["status"] == 401
        assert check(client.get("/api/tasks/" + str(uuid.uuid4()), headers=headers), "/api/tasks/{id}")["status"] == 404
        for body in ({"email": "ada@example.test"}, {"email": "ada@example.test", "password": 12345},
                     {"email": "ada@example.test", "password": password, "colour": "red"}):
            assert check(client.post(login, json=body), login)["status"] == 422
        check(client.post(login, content=b"{nope", headers={"content-type": "application/json"}), login)  # 400
        check(client.post(login, content=b"email=a", headers={"content-type": "text/plain"}), login)  # 415
        check(client.post(login, json={"email": "ada@example.test", "password": "x" * 5000}), login)  # 413
        engine = create_engine(database_url)
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE users SET active = false WHERE email = 'ada@example.test'")
        engine.dispose()
        assert check(client.post(login, json={"email": "ada@example.test", "password": password}),
                     login)["code"] == "account_inactive"  # 403
        assert check(client.get(me, headers=headers), me)["code"] == "invalid_token"  # 401: deactivated meanwhile
        for _ in range(5):
            assert check(client.post(login, json={"email": "bob@example.test", "password": "wrong"}),
                         login)["code"] == "invalid_credentials"  # 401, no WWW-Authenticate
        throttled = client.post(login, json={"email": "bob@example.test", "password": "wrong"})
        assert check(throttled, login)["code"] == "too_many_attempts" and int(throttled.headers["retry-after"]) > 0
    statuses = {(template, status) for _, template, status in check.checked}
    assert {(login, s) for s in ("200", "400", "401", "403", "413", "415", "422", "429")} <= statuses
    assert {(signup, s) for s in ("201", "409", "422")} | {(me, "200"), (me, "401")} <= statuses


def test_links_lead_from_a_record_to_its_own_operations(documents):
    """Links (what stateful clients and testers follow) name real operations and fill their parameters."""
    document = documents["tasks"]
    by_id = {op["operationId"]: (path, method, op) for path, item in document["paths"].items()
             for method, op in item.items()}
    created = by_id["create_project"][2]["responses"]["201"]["links"]
    assert created["get_project"]["parameters"] == {"path.slug": "$response.body#/slug"}
    assert created["update_project"]["parameters"] == {"path.slug": "$response.body#/slug",
                                                       "header.If-Match": "$response.header.ETag"}
    assert created["create_task_project_id"]["requestBody"] == {"project_id": "$response.body#/id"}
    assert by_id["signup"][2]["responses"]["201"]["links"]["get_user"]["parameters"] == {
        "path.id": "$response.body#/user/id"}
    for _, _, op in by_id.values():
        for response in op["responses"].values():
            for link in response.get("links", {}).values():
                path, method, _ = by_id[link["operationId"]]
                declared = {f"{p['in']}.{p['name']}" for p in _parameters(document, path, method)}
                assert set(link.get("parameters", {})) <= declared
    variant = documents["variant"]  # with an envelope, the key is inside it
    links = variant["paths"]["/api/products"]["post"]["responses"]["201"]["links"]
    assert links["get_product"]["parameters"] == {"path.id": "$response.body#/product/id"}


# --- /docs and /openapi.json ----------------------------------------------------------------------------


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self._in_script = True
            if attributes.get("src"):
                self.urls.append(attributes["src"])
        elif tag == "link" and attributes.get("href"):
            self.urls.append(attributes["href"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts += 1


def test_docs_are_served_offline_and_the_document_is_the_packaged_file(tmp_path):
    out = tmp_path / "out"
    with make_client(CATALOG, out, f"sqlite:///{tmp_path / 'app.db'}") as client:
        page = client.get("/docs")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "unsafe-eval" not in page.headers["content-security-policy"]
        parser = _Assets()
        parser.feed(page.text)
        assert parser.inline_scripts == 0  # works under script-src 'self'
        assert not re.search(r"(src|href)=\"(https?:)?//", page.text)  # nothing from another host
        assert {url.rsplit("/", 1)[1] for url in parser.urls} >= {"swagger-ui-bundle.js", "swagger-ui.css", "init.js"}
        for url in parser.urls:
            assert url.startswith("/docs/static/")
            asset = client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > (100_000 if url.endswith("bundle.js") else 100)
            if url.endswith(".js"):
                assert asset.headers["content-type"].startswith("text/javascript")
                assert "://" not in asset.text or url.endswith("bundle.js")
        assert "SwaggerUIBundle" in client.get("/docs/static/init.js").text
        assert client.get("/docs/static/../app.py").status_code == 404
        assert client.get("/docs/static/redoc.standalone.js").status_code == 404  # only what the page needs
        served = client.get("/openapi.json")
        assert served.status_code == 200 and served.headers["content-type"] == "application/json"
        assert served.content == (out / "catalog" / "openapi.json").read_bytes()
        assert served.json() == json.loads(_dump(openapi_document(_ir(CATALOG))))


def test_docs_are_absent_when_disabled(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    with make_client(CATALOG, tmp_path / "out", url, {"APP_DOCS": "0"}) as client:
        for path in ("/docs", "/openapi.json", "/docs/static/swagger-ui.css", "/docs/static/init.js"):
            response = client.get(path)
            assert response.status_code == 404, path
            assert response.headers["content-type"] == "application/problem+json"
        assert client.get("/api/suppliers").status_code == 200
    with make_client(CATALOG, tmp_path / "prod", url, {"APP_ENV": "production"}) as client:
        assert client.get("/docs").status_code == 404  # off in production unless APP_DOCS=1


def test_plan_ships_the_document_at_the_root_and_in_the_package(specs):
    """The generated output carries openapi.json twice: for readers, and inside the package for /openapi.json."""
    from generator.targets import JsonFile, plan_files

    ir = _ir(specs["catalog"])
    planned = {f.path: f for f in plan_files(ir)}
    for path in ("openapi.json", "catalog/openapi.json"):
        assert path in planned and isinstance(planned[path], JsonFile), f"{path} is not planned yet"
        assert _dump(planned[path].document) == _dump(openapi_document(ir))
    assert "catalog/docs.py" in planned
