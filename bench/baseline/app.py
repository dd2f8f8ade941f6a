"""The product endpoints, written by hand: list, get, create, update.

Behaviour matches the generated catalog app's (tests/specs/catalog): filters as
`field` / `field__op` query parameters, `sort`, `include=supplier`, keyset cursors,
ETag and If-Match, 404 for unknown or malformed ids, 422 naming the field for bad
input and for a supplier that does not exist, 409 for a taken unique value.
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from baseline import errors, pagination
from baseline.db import Database, database_url, read_session, write_session
from baseline.errors import ApiError, invalid, not_found
from baseline.middleware import ApiHeaders, BodyLimit
from baseline.models import Product, Supplier
from baseline.schemas import ProductCreate, ProductPage, ProductQuery, ProductRead, ProductUpdate, ProductWithSupplier

ReadSession = Annotated[AsyncSession, Depends(read_session)]
WriteSession = Annotated[AsyncSession, Depends(write_session)]
SERVER_FIELDS = {"id", "created_at", "updated_at"}
INCLUDES = {"supplier": joinedload(Product.supplier)}
PAGING = {"limit", "sort", "include", "cursor"}
OPERATORS = {"": operator.eq, "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le,
             "in": lambda column, values: column.in_(values),
             "contains": lambda column, text: column.contains(text, autoescape=True)}

router = APIRouter(prefix="/api/products")


class ItemQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    include: str | None = None


def json_body(model: type[BaseModel]) -> Any:
    """A dependency that parses the body with Pydantic's JSON parser (strict, and faster than
    FastAPI's json.loads + validation), naming server-managed fields as read-only."""

    async def parse(request: Request) -> BaseModel:
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
        try:
            return model.model_validate_json(await request.body())
        except ValidationError as exc:
            error = errors.from_validation([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()])
            for item in error.errors or []:
                if item["code"] == "extra_forbidden" and item["field"] in SERVER_FIELDS:
                    item.update(message="is managed by the server and cannot be set", code="read_only_field")
            raise error from None

    return Depends(parse)


def included(text: str | None) -> list[str]:
    names = text.split(",") if text else []
    for name in names:
        if name not in INCLUDES:
            raise invalid("include", f"cannot include {name!r}; includable: supplier", "invalid_include")
    return names


def product_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise not_found() from None


def etag(row: Product) -> str:
    return f'"v{row.lock_version}"'


async def check_supplier(session: AsyncSession, supplier_id: uuid.UUID) -> None:
    if not await session.scalar(select(exists().where(Supplier.id == supplier_id))):
        raise invalid("supplier_id", "does not refer to an existing Supplier", "unknown_reference")


@router.get("", response_model=ProductPage)
async def list_products(query: Annotated[ProductQuery, Query()], session: ReadSession) -> ProductPage:
    names = included(query.include)
    keys = pagination.sort_keys(query.sort)
    statement = select(Product).order_by(*pagination.order_by(keys)).limit(query.limit + 1)
    for name in query.model_fields_set - PAGING:
        if (value := getattr(query, name)) is not None:
            field, _, op = name.partition("__")
            statement = statement.where(OPERATORS[op](getattr(Product, field), value))
    if query.cursor is not None:
        statement = statement.where(pagination.after(query.cursor, query.sort, keys))
    rows = (await session.scalars(statement.options(*(INCLUDES[n] for n in names)))).all()
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    read = ProductWithSupplier if names else ProductRead
    return ProductPage(items=[read.model_validate(row) for row in rows],
                       next_cursor=pagination.encode(query.sort, rows[-1], keys) if more else None)


@router.get("/{id}", response_model=ProductWithSupplier | ProductRead)
async def get_product(id: str, query: Annotated[ItemQuery, Query()], response: Response,
                      session: ReadSession) -> ProductRead:
    names = included(query.include)
    row = await session.get(Product, product_id(id), options=[INCLUDES[n] for n in names])
    if row is None:
        raise not_found()
    response.headers["ETag"] = etag(row)
    return (ProductWithSupplier if names else ProductRead).model_validate(row)


@router.post("", status_code=201, response_model=ProductRead)
async def create_product(body: Annotated[ProductCreate, json_body(ProductCreate)], response: Response,
                         session: WriteSession) -> ProductRead:
    await check_supplier(session, body.supplier_id)
    row = Product(**body.model_dump())
    session.add(row)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise errors.from_integrity(exc) from None
    response.headers["Location"] = f"/api/products/{row.id}"
    response.headers["ETag"] = etag(row)
    return ProductRead.model_validate(row)


@router.patch("/{id}", response_model=ProductRead)
async def update_product(id: str, body: Annotated[ProductUpdate, json_body(ProductUpdate)], request: Request,
                         response: Response, session: WriteSession) -> ProductRead:
    changes = body.model_dump(include=body.model_fields_set)
    if not changes:
        raise invalid("", "send at least one field to change", "empty_update")
    row = await session.get(Product, product_id(id))
    if row is None:
        raise not_found()
    wanted = request.headers.get("if-match")
    if wanted is not None and wanted.strip() != "*" and etag(row) not in [t.strip() for t in wanted.split(",")]:
        raise ApiError(412, "stale_version", "The record changed since you read it; fetch it again.",
                       headers={"ETag": etag(row)})
    if "supplier_id" in changes:
        await check_supplier(session, changes["supplier_id"])
    for name, value in changes.items():
        setattr(row, name, value)
    try:
        await session.commit()
    except StaleDataError:
        await session.rollback()
        raise ApiError(412, "stale_version", "The record changed while you were updating it; fetch it again.") from None
    except IntegrityError as exc:
        await session.rollback()
        raise errors.from_integrity(exc) from None
    response.headers["ETag"] = etag(row)
    return ProductRead.model_validate(row)


def create_app(url: str | None = None) -> FastAPI:
    """The app; the database URL comes from DATABASE_URL when not given (as under uvicorn --factory)."""
    url = database_url(url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = Database(url)
        yield
        await app.state.db.engine.dispose()

    app = FastAPI(title="Catalog (hand-written)", lifespan=lifespan)
    app.include_router(router)
    errors.install(app)
    app.add_middleware(BodyLimit)
    app.add_middleware(ApiHeaders)
    return app
