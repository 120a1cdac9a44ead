"""Declarative base, naming convention, and exact decimal columns for SQLite and PostgreSQL.

Decimals are stored as scaled integers (hours and money × 10^4, fractions
× 10^6): SQLite has no decimal type and would sum REALs in floating point;
integers sum exactly in SQL on both databases, so aggregates in SQL stay exact.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Dialect, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Scaled(TypeDecorator[Decimal]):
    """A Decimal stored as an integer count of 10^-scale units; refuses values it cannot hold exactly."""

    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int = 4) -> None:
        super().__init__()
        self.scale = scale
        self.factor = Decimal(10) ** scale

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else self.to_int(value)

    def to_int(self, value: Decimal | int) -> int:
        scaled = value * self.factor
        integral = int(scaled)
        if integral != scaled:
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        return integral

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)) / self.factor

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


def Money() -> Scaled:
    return Scaled(4)


def Hours() -> Scaled:
    return Scaled(4)


def Fraction() -> Scaled:
    return Scaled(6)
