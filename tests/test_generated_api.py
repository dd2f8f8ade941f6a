"""The generated CRUD API, served and called over HTTP, on SQLite and PostgreSQL.

Uses tests/specs/catalog (every rule `true`, so it runs before sign-in exists) and
the example specs (whose rules need a signed-in user: they must refuse, not leak).
"""

from __future__ import annotations

import os
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from tests.conftest import REPO
from tests.generated_app import import_package_module, render_into

PG_ADMIN_URL = os.environ.get("KEEL_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CATALOG = REPO / "tests/specs/catalog"


@pytest.fixture(scope="module")
def pg_database():
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        name = f"keel_api_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("KEEL_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required (KEEL_REQUIRE_POSTGRES) but unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def serve(spec, tmp_path, request, backend: str):
    out = tmp_path / "out"
    render_into(spec, out)
    package = spec.name  # the example specs' directories are named after their apps
    models = import_package_module(out, f"{package}.models")
    app_module = import_package_module(out, f"{package}.app", fresh=False)
    settings_module = import_package_module(out, f"{package}.settings", fresh=False)
    if backend == "sqlite":
        sync_url = f"sqlite:///{tmp_path / 'app.db'}"
    else:
        sync_url = request.getfixturevalue("pg_database")
    engine = create_engine(sync_url)
    models.Base.metadata.drop_all(engine)
    models.Base.metadata.create_all(engine)
    engine.dispose()
    settings = settings_module.load_settings({"DATABASE_URL": sync_url, "APP_MAX_BODY_BYTES": "4096"})
    return TestClient(app_module.create_app(settings), raise_server_exceptions=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog(request, tmp_path):
    with serve(CATALOG, tmp_path, request, request.param) as client:
        yield client


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code and body["status"] == status
    assert "Traceback" not in response.text and "sqlalchemy" not in response.text.lower()
    return body


def make_supplier(client, name="Acme Tools") -> dict:
    response = client.post("/api/suppliers", json={"name": name, "email": "sales@acme.test"})
    assert response.status_code == 201, response.text
    return response.json()


def make_product(client, supplier_id, **overrides) -> dict:
    body = {"name": "Hammer", "sku": "HAM-0001", "price": "12.50", "supplier_id": supplier_id, **overrides}
    response = client.post("/api/products", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_read_update_delete_round_trip(catalog):
    supplier = make_supplier(catalog)
    assert supplier["slug"] == "acme-tools"
    response = catalog.post("/api/products", json={"name": "Hammer", "sku": "HAM-0001", "price": "12.50",
                                                   "supplier_id": supplier["id"]})
    assert response.status_code == 201
    product = response.json()
    assert response.headers["location"] == f"/api/products/{product['id']}"
    assert response.headers["etag"] == '"v1"'
    assert (product["price"], product["stock"], product["category"]) == ("12.50", 0, "tools")
    assert "lock_version" not in product and product["created_at"].endswith("Z")
    got = catalog.get(f"/api/products/{product['id']}")
    assert got.json() == product and got.headers["etag"] == '"v1"'
    patched = catalog.patch(f"/api/products/{product['id']}", json={"price": "13.00"}, headers={"If-Match": '"v1"'})
    assert patched.status_code == 200 and patched.json()["price"] == "13.00"
    assert patched.headers["etag"] == '"v2"'
    problem(catalog.patch(f"/api/products/{product['id']}", json={"stock": 3}, headers={"If-Match": '"v1"'}),
            412, "stale_version")
    assert catalog.get(f"/api/products/{product['id']}").json()["stock"] == 0  # nothing written
    by_slug = catalog.get("/api/suppliers/acme-tools")
    assert by_slug.status_code == 200 and by_slug.json()["id"] == supplier["id"]
    problem(catalog.delete("/api/suppliers/acme-tools"), 409, "still_referenced")  # restrict
    problem(catalog.delete(f"/api/products/{product['id']}"), 403, "forbidden")  # delete: false


def test_list_filters_sorts_paginates_and_includes(catalog):
    supplier = make_supplier(catalog)
    for i in range(7):
        make_product(catalog, supplier["id"], name=f"Item {i}", sku=f"ITM-{i:04d}", price=f"{i}.50", stock=i,
                     category=["tools", "garden"][i % 2])
    page = catalog.get("/api/products", params={"limit": 3, "sort": "-price"}).json()
    assert [p["price"] for p in page["items"]] == ["6.50", "5.50", "4.50"]
    seen = [p["id"] for p in page["items"]]
    while page["next_cursor"]:
        page = catalog.get("/api/products", params={"limit": 3, "sort": "-price", "cursor": page["next_cursor"]}).json()
        seen += [p["id"] for p in page["items"]]
    assert len(seen) == len(set(seen)) == 7
    garden = catalog.get("/api/products", params={"category": "garden", "price__gte": "3", "sort": "stock"}).json()
    assert [p["stock"] for p in garden["items"]] == [3, 5]
    some = catalog.get("/api/products", params={"stock__in": "1,2", "name__contains": "Item"}).json()
    assert sorted(p["stock"] for p in some["items"]) == [1, 2]
    included = catalog.get("/api/products", params={"include": "supplier", "limit": 1}).json()["items"][0]
    assert included["supplier"]["slug"] == "acme-tools"
    with_products = catalog.get("/api/suppliers/acme-tools", params={"include": "products"}).json()
    assert len(with_products["products"]) == 7


@pytest.mark.parametrize("params,code", [
    ({"limit": "1000000"}, "invalid_limit"),
    ({"limit": "0"}, "invalid_limit"),
    ({"sort": "sku"}, "invalid_sort"),
    ({"colour": "red"}, "unknown_parameter"),
    ({"include": "owner"}, "invalid_include"),
    ({"price__gte": "cheap"}, "invalid_parameter"),
    ({"stock": "NaN"}, "invalid_parameter"),
    ({"available_from__lt": "2024-13-45"}, "invalid_parameter"),
])
def test_bad_list_parameters_are_4xx_problems(catalog, params, code):
    [error] = problem(catalog.get("/api/products", params=params), 422, "validation_failed")["errors"]
    assert error["code"] == code


def test_bad_cursor_is_400(catalog):
    problem(catalog.get("/api/products", params={"cursor": "not-a-cursor"}), 400, "bad_cursor")


# Found by Schemathesis (tests/test_schemathesis.py): query values the document does not allow were accepted.
@pytest.mark.parametrize("params,field,code", [
    ({"price__gte": "1e5"}, "price__gte", "invalid_parameter"),  # the document: -?[0-9]+(.[0-9]+)?
    ({"price__gte": ""}, "price__gte", "invalid_parameter"),
    ({"available_from": "20240501"}, "available_from", "invalid_parameter"),  # fromisoformat takes it; RFC 3339 not
    ({"available_from__gt": "2024-W01-1"}, "available_from__gt", "invalid_parameter"),
    ({"supplier_id": "3fa85f6457174562b3fc2c963f66afa6"}, "supplier_id", "invalid_parameter"),  # no hyphens
    ({"stock": "\u0663"}, "stock", "invalid_parameter"),  # an Arabic-Indic digit is a digit to str.isdigit
    ({"limit": "\uff11"}, "limit", "invalid_limit"),  # a fullwidth 1
    ({"category": "toys"}, "category", "invalid_parameter"),  # not in the enum: refused, not "matches nothing"
    ({"category__in": "tools,null"}, "category__in", "invalid_parameter"),
    ({"sort": ""}, "sort", "invalid_sort"),  # empty is not the default
])
def test_query_values_outside_the_documented_syntax_are_refused(catalog, params, field, code):
    [error] = problem(catalog.get("/api/products", params=params), 422, "validation_failed")["errors"]
    assert (error["field"], error["code"]) == (field, code)


def test_a_repeated_query_parameter_is_refused_and_repeated_keys_count_once(catalog):
    [error] = problem(catalog.get("/api/products?category=tools&category=garden"), 422, "validation_failed")["errors"]
    assert (error["field"], error["code"]) == ("category", "repeated_parameter")
    supplier = make_supplier(catalog)
    make_product(catalog, supplier["id"], name="B", sku="BBB-0001", price="2.00")
    make_product(catalog, supplier["id"], name="A", sku="AAA-0001", price="3.00")
    twice = catalog.get("/api/products", params={"sort": "-price,name,-price", "include": "supplier,supplier"})
    assert twice.status_code == 200, twice.text
    assert [p["name"] for p in twice.json()["items"]] == ["A", "B"]  # the first -price decides
    assert all(p["supplier"]["id"] == supplier["id"] for p in twice.json()["items"])
    dated = catalog.get("/api/products", params={"available_from__lt": "2030-01-01T00:00:00Z"})
    problem(dated, 422, "validation_failed")  # a date filter takes a date, not a date-time


def test_cursor_pages_sorted_by_an_integer_key(catalog):
    """A cursor holds an integer key as a JSON number; reading it back must not refuse it (it did: 400)."""
    supplier = make_supplier(catalog)
    for i in range(5):
        make_product(catalog, supplier["id"], name=f"P{i}", sku=f"PPP-000{i}", stock=i % 3)
    page = catalog.get("/api/products", params={"sort": "stock", "limit": 2}).json()
    seen = [p["stock"] for p in page["items"]]
    while page["next_cursor"]:
        response = catalog.get("/api/products", params={"sort": "stock", "limit": 2, "cursor": page["next_cursor"]})
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [p["stock"] for p in page["items"]]
    assert seen == [0, 0, 1, 1, 2]


def test_text_with_a_nul_character_is_refused_not_stored(catalog):
    """PostgreSQL cannot store NUL (a 500) and SQLite's length() stops at it (a 422 constraint_violated)."""
    [error] = problem(catalog.post("/api/suppliers", json={"name": "Ac\u0000me"}), 422, "validation_failed")["errors"]
    assert error["field"] == "name"
    [error] = problem(catalog.get("/api/products", params={"name": "x\u0000"}), 422, "validation_failed")["errors"]
    assert (error["field"], error["code"]) == ("name", "invalid_parameter")
    problem(catalog.get("/api/suppliers/ac%00me"), 404, "not_found")
    assert catalog.get("/api/suppliers").json()["items"] == []


def test_decimal_filters_compare_the_exact_number_given(catalog):
    """Found by Schemathesis on PostgreSQL: a filter value was cast to the column's NUMERIC(10, 2), so one past
    its digits was a 500 (numeric field overflow) and one with more decimals was rounded (1.005 -> 1.01)."""
    supplier = make_supplier(catalog)
    make_product(catalog, supplier["id"], price="1.01")
    for params, count in (({"price__gt": "1.005"}, 1), ({"price__lt": "1.0101"}, 1), ({"price": "1.010"}, 1),
                          ({"price__gt": "123456789012345678901234.5"}, 0), ({"price__gte": "-99999999999999"}, 1)):
        response = catalog.get("/api/products", params=params)
        assert response.status_code == 200, (params, response.text)
        assert len(response.json()["items"]) == count, params


def test_a_whole_number_written_with_a_fraction_is_an_integer(catalog):
    """JSON Schema counts 3.0 as an integer, so the app must too; 3.5 stays refused."""
    supplier = make_supplier(catalog)
    product = make_product(catalog, supplier["id"], stock=3.0)
    assert product["stock"] == 3
    body = {"name": "X", "sku": "XXX-0001", "price": "1.00", "supplier_id": supplier["id"], "stock": 3.5}
    [error] = problem(catalog.post("/api/products", json=body), 422, "validation_failed")["errors"]
    assert error["field"] == "stock"


def test_405_lists_every_method_of_the_path_and_instance_is_a_uri_reference(catalog):
    response = catalog.request("OPTIONS", "/api/products")
    problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, POST"
    response = catalog.put(f"/api/products/{uuid.uuid4()}", json={})
    assert response.status_code == 405 and response.headers["allow"] == "DELETE, GET, PATCH"
    missing = problem(catalog.get("/api/suppliers/caf\u00e9 \u0084"), 404, "not_found")
    assert missing["instance"] == "/api/suppliers/caf%C3%A9%20%C2%84"  # percent-encoded, as in the request


@pytest.mark.parametrize("body,field", [
    ({"name": "X", "sku": "BAD", "price": "1.00"}, "sku"),
    ({"name": "X", "sku": "ABC-0001", "price": 1.5}, "price"),
    ({"name": "X", "sku": "ABC-0001", "price": "1.234"}, "price"),
    ({"name": "X", "sku": "ABC-0001", "price": "-1.00"}, "price"),
    ({"name": "X", "sku": "ABC-0001", "price": "NaN"}, "price"),
    ({"name": "X", "sku": "ABC-0001", "price": "1.00", "stock": "5"}, "stock"),
    ({"name": "X", "sku": "ABC-0001", "price": "1.00", "stock": 2**70}, "stock"),
    ({"name": "X", "sku": "ABC-0001", "price": "1.00", "colour": "red"}, "colour"),
    ({"name": "X", "sku": "ABC-0001", "price": "1.00", "id": str(uuid.uuid4())}, "id"),
    ({"name": "X", "sku": "ABC-0001", "price": "1.00", "category": "toys"}, "category"),
    ({"name": "", "sku": "ABC-0001", "price": "1.00"}, "name"),
])
def test_invalid_bodies_are_422_naming_the_field_and_write_nothing(catalog, body, field):
    supplier = make_supplier(catalog)
    body = {"supplier_id": supplier["id"], **body}
    errors = problem(catalog.post("/api/products", json=body), 422, "validation_failed")["errors"]
    assert field in {e["field"] for e in errors}
    assert catalog.get("/api/products").json()["items"] == []


def test_server_fields_are_refused_by_name(catalog):
    supplier = make_supplier(catalog)
    body = {"name": "X", "sku": "ABC-0001", "price": "1.00", "supplier_id": supplier["id"], "created_at": "x"}
    [error] = problem(catalog.post("/api/products", json=body), 422, "validation_failed")["errors"]
    assert (error["field"], error["code"]) == ("created_at", "read_only_field")


def test_malformed_json_unsupported_type_and_oversize_bodies(catalog):
    problem(catalog.post("/api/suppliers", content=b"{nope", headers={"content-type": "application/json"}),
            400, "malformed_json")
    problem(catalog.post("/api/suppliers", content=b"name=x", headers={"content-type": "text/plain"}),
            415, "unsupported_media_type")
    problem(catalog.post("/api/suppliers", json={"name": "x" * 5000}), 413, "body_too_large")


def test_unique_violation_is_409_naming_the_field(catalog):
    supplier = make_supplier(catalog)
    make_product(catalog, supplier["id"])
    body = problem(catalog.post("/api/products", json={"name": "Other", "sku": "HAM-0001", "price": "1.00",
                                                     "supplier_id": supplier["id"]}), 409, "already_exists")
    assert [e["field"] for e in body["errors"]] == ["sku"]
    body = problem(catalog.post("/api/products", json={"name": "Hammer", "sku": "HAM-0002", "price": "1.00",
                                                     "supplier_id": supplier["id"]}), 409, "already_exists")
    assert sorted(e["field"] for e in body["errors"]) == ["name", "supplier_id"]


def test_reference_to_a_missing_record_is_422(catalog):
    errors = problem(catalog.post("/api/products", json={"name": "X", "sku": "ABC-0001", "price": "1.00",
                                                        "supplier_id": str(uuid.uuid4())}), 422,
                     "validation_failed")["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("supplier_id", "unknown_reference")]


def test_unknown_and_malformed_ids_are_404(catalog):
    problem(catalog.get(f"/api/products/{uuid.uuid4()}"), 404, "not_found")
    problem(catalog.get("/api/products/not-a-uuid"), 404, "not_found")
    problem(catalog.get("/api/nothing-here"), 404, "not_found")


def test_request_id_and_security_headers(catalog):
    response = catalog.get("/api/products", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    fresh = catalog.get("/api/products", headers={"X-Request-ID": "bad id with spaces"})
    assert len(fresh.headers["x-request-id"]) == 32


def test_example_apps_show_anonymous_users_nothing_and_let_them_change_nothing(tmp_path, request):
    """Rules that need a user are never skipped: lists are filtered to nothing, writes answer 401."""
    with serve(REPO / "specs/tasks", tmp_path, request, "sqlite") as client:
        assert client.get("/api/tasks").json() == {"items": [], "next_cursor": None}
        refused = client.post("/api/projects", json={"name": "x"})
        problem(refused, 401, "authentication_required")
        assert refused.headers["www-authenticate"] == "Bearer"
        # Found by Schemathesis (ignored_auth): no rule lets an anonymous write through, so it is 401 before
        # anything else, not a 404 for a record it cannot see or a 422 for a body it should not have sent.
        problem(client.patch("/api/projects/no-such-project", json={"name": "y"}), 401, "authentication_required")
        problem(client.delete(f"/api/tasks/{uuid.uuid4()}"), 401, "authentication_required")
        problem(client.post("/api/tasks", json={"colour": "red"}), 401, "authentication_required")


def test_passwords_set_through_crud_endpoints_are_stored_hashed(tmp_path, request):
    """A password sent to an entity endpoint must reach the database only as an argon2 hash."""
    import asyncio
    import sqlite3

    with serve(REPO / "specs/expenses", tmp_path, request, "sqlite") as client:
        auth = import_package_module(tmp_path / "out", "expenses.auth", fresh=False)
        admin_hash = asyncio.run(auth.hash_password("correct horse battery"))
        with sqlite3.connect(tmp_path / "app.db") as db:  # the first admin, as `create-admin` would make
            db.execute("INSERT INTO employees (id, email, full_name, password_hash, active, role, created_at, "
                       "updated_at, lock_version) VALUES (?, 'a@x.test', 'A', ?, 1, 'admin', CURRENT_TIMESTAMP, "
                       "CURRENT_TIMESTAMP, 1)", (uuid.uuid4().hex, admin_hash))
        token = client.post("/api/v1/auth/login", json={"email": "a@x.test", "password": "correct horse battery"})
        assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        created = client.post("/api/v1/employees", headers=headers,
                              json={"email": "b@x.test", "full_name": "B", "password": "another long secret"})
        assert created.status_code == 201, created.text
        assert "password" not in created.json() and "password_hash" not in created.json()
        with sqlite3.connect(tmp_path / "app.db") as db:
            hashes = [row[0] for row in db.execute("SELECT password_hash FROM employees")]
        assert all(h.startswith("$argon2") for h in hashes) and "another long secret" not in hashes
        login = client.post("/api/v1/auth/login", json={"email": "b@x.test", "password": "another long secret"})
        assert login.status_code == 200
        # A create refused before the row reaches the database costs no Argon2 work, and stores nothing.
        # (Create rules are decided on the inserted row, so a password is hashed before those.)
        router = import_package_module(tmp_path / "out", "expenses.routers.employee", fresh=False)
        hashed: list[str] = []
        real = router.hash_password

        async def spy(password: str) -> str:
            hashed.append(password)
            return await real(password)

        router.hash_password = spy
        try:
            member = {"Authorization": f"Bearer {login.json()['access_token']}"}
            refused = client.post("/api/v1/employees", headers=member,
                                  json={"email": "c@x.test", "full_name": "C", "password": "a third long secret",
                                        "bank_account": "DE89370400440532013000"})
            assert problem(refused, 403, "forbidden")["rule"] == "Employee.bank_account.write"
            assert hashed == []
            again = client.post("/api/v1/employees", headers=headers,
                                json={"email": "c@x.test", "full_name": "C", "password": "a third long secret"})
            assert again.status_code == 201 and hashed == ["a third long secret"]
            assert again.headers["etag"].endswith('1"')  # one insert, no second write for the hash
        finally:
            router.hash_password = real
        with sqlite3.connect(tmp_path / "app.db") as db:
            emails = sorted(row[0] for row in db.execute("SELECT email FROM employees"))
        assert emails == ["a@x.test", "b@x.test", "c@x.test"]
        assert client.post("/api/v1/auth/login",
                           json={"email": "c@x.test", "password": "a third long secret"}).status_code == 200
