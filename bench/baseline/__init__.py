"""A hand-written FastAPI + SQLAlchemy implementation of the catalog's product endpoints.

It is the yardstick of bench/api_bench.py: what a good engineer would write by hand for
the endpoints Keel generates from tests/specs/catalog (list with filters, sort, include
and keyset pagination; get; create; update), with the same JSON shapes, the same
validation, the same ETag/If-Match, problem+json and request-id behaviour, on the same
tables. It is written the idiomatic way (async SQLAlchemy 2 sessions as dependencies,
Pydantic v2 models for query strings, bodies and responses, response_model
serialisation, joinedload for the include), not the way Keel writes it, so that the
benchmark compares the generated code with an independent implementation rather
than with a copy of itself. bench/apibench/parity.py checks that both answer alike.

Run with `uvicorn --app-dir bench --factory baseline.app:create_app`;
`baseline.ceiling:create_app` is the bare endpoint (the server stack's ceiling).
"""
