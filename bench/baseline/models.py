"""ORM classes for the catalog's two tables, as a developer would declare them by hand.

They map the tables that the generated app's migration creates (same names, same
columns), so both apps can be measured against the very same database.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, Integer, Numeric, String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class Base(DeclarativeBase):
    pass


class Supplier(Base):
    __tablename__ = "suppliers"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                          onupdate=utcnow)
    lock_version: Mapped[int] = mapped_column(Integer(), default=1)

    __mapper_args__ = {"version_id_col": lock_version}


class Product(Base):
    __tablename__ = "products"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(120))
    sku: Mapped[str] = mapped_column(String(255), unique=True)
    price: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2))
    stock: Mapped[int] = mapped_column(BigInteger(), default=0)
    category: Mapped[str] = mapped_column(String(7), default="tools")
    available_from: Mapped[datetime.date | None] = mapped_column(Date())
    supplier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("suppliers.id", ondelete="RESTRICT"))
    notes: Mapped[str | None] = mapped_column(Text())
    attributes: Mapped[Any | None] = mapped_column(JSON())
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                          onupdate=utcnow)
    lock_version: Mapped[int] = mapped_column(Integer(), default=1)

    # lazy="raise": an include that was not asked for must never turn into a query per row.
    supplier: Mapped[Supplier] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": lock_version}
