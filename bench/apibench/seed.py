"""Catalog data, bulk-loaded: a million products in under a minute, even on a busy 2-core machine.

Each database makes the rows itself with one INSERT ... SELECT over a series of
numbers (a recursive CTE in SQLite, generate_series in PostgreSQL), so no row passes
through Python: building a million rows in Python alone takes longer than the
database needs to store them. Row n is a function of n (name, SKU, price, stock,
category, date, supplier, creation time), except its id, which is random (the apps
use uuid4 too). Values are stored as SQLAlchemy stores them (SQLite: 32 hex digit
UUIDs, `YYYY-MM-DD HH:MM:SS.ffffff` UTC text). The secondary indexes are dropped
during the load and rebuilt after it (several times faster than maintaining them
row by row), and the tables are ANALYZEd, as a database in production would be. PostgreSQL skips the
per-row foreign-key trigger during the load (session_replication_role = replica): the
suppliers are known to exist.
"""

from __future__ import annotations

import contextlib
import sqlite3
import uuid

SUPPLIERS = 100
# Row n's columns, in SQL both databases understand once the dialect's pieces are filled in.
_PRODUCT = """
INSERT INTO products (id, name, sku, price, stock, category, available_from, supplier_id,
                      created_at, updated_at, lock_version)
SELECT {uuid}, 'Product ' || {pad7}, {sku}, ((n * 7919) % 100000) / 100.0, (n * 31) % 1000,
       CASE n % 3 WHEN 0 THEN 'tools' WHEN 1 THEN 'garden' ELSE 'kitchen' END,
       CASE WHEN n % 10 = 0 THEN NULL ELSE {date} END, s.id, created, created, 1
FROM (SELECT n, {created} AS created FROM {series}) AS numbered JOIN supplier_keys s ON s.k = n % {suppliers}
"""
# Supplier k (0-based, by name) for row n's `n % SUPPLIERS`, in a temporary table keyed by k.
_SUPPLIER_KEYS = ("CREATE TEMPORARY TABLE supplier_keys (k INTEGER PRIMARY KEY, id {uuid_type})",
                  "INSERT INTO supplier_keys SELECT row_number() OVER (ORDER BY name) - 1, id FROM suppliers")
_LETTER = "{chr}(CAST(65 + (n / {div}) % 26 AS INTEGER))"
_SKU = " || ".join(_LETTER.replace("{div}", str(d)) for d in (6_760_000, 260_000, 10_000)) + " || '-' || {digits}"
_SUPPLIER = ("INSERT INTO suppliers (id, name, slug, email, created_at, updated_at, lock_version) "
             "VALUES ({uuid}, 'Supplier ' || :n, 'supplier-' || :n, 'sales' || :n || '@example.test', "
             "{now}, {now}, 1)")
SQLITE = {
    "uuid": "lower(hex(randomblob(16)))", "pad7": "substr('000000' || n, -7)", "chr": "char",
    "digits": "substr('000' || (n % 10000), -4)", "date": "date('2024-01-01', '+' || (n % 730) || ' days')",
    "created": "strftime('%Y-%m-%d %H:%M:%S', '2025-01-01', '+' || n || ' seconds') || '.000000'",
    "series": "(WITH RECURSIVE c(n) AS (SELECT {start} UNION ALL SELECT n + 1 FROM c WHERE n + 1 < {stop}) "
              "SELECT n FROM c)",
    "now": "strftime('%Y-%m-%d %H:%M:%f000', 'now')", "uuid_type": "CHAR(32)",
}
POSTGRES = {
    "uuid": "gen_random_uuid()", "pad7": "lpad(n::text, 7, '0')", "chr": "chr",
    "digits": "lpad((n % 10000)::text, 4, '0')", "date": "date '2024-01-01' + (n % 730)::int",
    "created": "timestamptz '2025-01-01 00:00:00+00' + n * interval '1 second'",
    "series": "generate_series({start}::bigint, {stop}::bigint - 1) AS n", "now": "now()",
    "uuid_type": "uuid",
}


def _fill(template: str, parts: dict[str, str], start: int = 0, stop: int = 0) -> str:
    text = template.replace("{sku}", _SKU).replace("{suppliers}", str(SUPPLIERS))
    for name, sql in parts.items():
        text = text.replace("{" + name + "}", sql)
    return text.replace("{start}", str(int(start))).replace("{stop}", str(int(stop)))


def seed_sqlite(path: str, start: int, stop: int) -> None:
    """Products [start, stop), and the suppliers first when start is 0.

    No journal during the load (the apps switch the database back to WAL when they connect).
    """
    db = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1000000"):  # 1 GB of cache
            db.execute(f"PRAGMA {pragma}")
        indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'products' "
                             "AND sql IS NOT NULL").fetchall()  # sql is NULL for the unique constraints' own
        db.execute("BEGIN")
        if start == 0:
            db.executemany(_fill(_SUPPLIER, SQLITE), [{"n": f"{n:03d}"} for n in range(SUPPLIERS)])
        for name, _ in indexes:
            db.execute(f"DROP INDEX {name}")
        for statement in _SUPPLIER_KEYS:
            db.execute(_fill(statement, SQLITE))
        db.execute(_fill(_PRODUCT, SQLITE, start, stop))
        for _, sql in indexes:
            db.execute(sql)
        db.execute("COMMIT")
        db.execute("ANALYZE")  # in full: with sampled statistics, or none, SQLite's planner picks worse indexes
    finally:
        db.close()


def seed_postgres(url: str, start: int, stop: int) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("SET session_replication_role = replica")  # no per-row foreign-key trigger: the rows are known good
        conn.execute("SET maintenance_work_mem = '256MB'")  # index builds in memory
        if start == 0:
            with conn.cursor() as cursor:
                cursor.executemany(_fill(_SUPPLIER, POSTGRES).replace(":n", "%(n)s"),
                                   [{"n": f"{n:03d}"} for n in range(SUPPLIERS)])
        indexes = conn.execute("SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'products' "
                               "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)").fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for statement in _SUPPLIER_KEYS:
            conn.execute(_fill(statement, POSTGRES))
        conn.execute(_fill(_PRODUCT, POSTGRES, start, stop))
        for _, sql in indexes:
            conn.execute(sql)
        conn.commit()
        conn.execute("ANALYZE")


def seed(url: str, start: int, stop: int) -> None:
    if url.startswith("sqlite"):
        seed_sqlite(url.split(":///", 1)[1], start, stop)
    else:
        seed_postgres(url, start, stop)


def product_ids(url: str, count: int) -> list[str]:
    """Ids of `count` seeded products (the first by SKU), for the get and update workloads."""
    return _ids(url, f"SELECT id FROM products ORDER BY sku LIMIT {int(count)}")


def supplier_ids(url: str) -> list[str]:
    return _ids(url, "SELECT id FROM suppliers ORDER BY name")


def _ids(url: str, query: str) -> list[str]:
    """UUIDs as the API shows them (SQLite stores 32 hex digits, PostgreSQL a uuid)."""
    if url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(url.split(":///", 1)[1])) as db:
            return [str(uuid.UUID(hex=row[0])) for row in db.execute(query)]
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return [str(row[0]) for row in conn.execute(query)]
