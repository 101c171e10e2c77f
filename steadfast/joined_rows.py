"""Rows of different models read by one hand-written SELECT, as model instances.

For a hot path that needs two unrelated rows at once (the booking request's slot and patient): one
round trip instead of two, and no ORM query building. The columns come from the models' own
fields, and each value goes through the converters the ORM itself would apply, so a new field
needs no change here.
"""

from functools import cache

from django.db import connection
from django.db.models import Model


def columns(model: type[Model], alias: str) -> str:
    """`alias."col", ...` for every concrete field of `model`, in field order."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(f.column)}" for f in model._meta.concrete_fields)


def table(model: type[Model]) -> str:
    """The model's table name, quoted for this database."""
    return connection.ops.quote_name(model._meta.db_table)


def db_value(model: type[Model], field_name: str, value):
    """`value` as a parameter of hand-written SQL for `model`'s field (a UUID as SQLite keeps
    it, a time as this database takes it)."""
    return model._meta.get_field(field_name).get_db_prep_value(value, connection)


@cache
def _reading(model: type[Model], vendor: str) -> tuple[int, list[str], list]:
    """(the primary key's place, the attribute names, per field its expression and the backend's
    and the field's converters): worked out once per model."""
    fields = model._meta.concrete_fields
    converters = []
    for field in fields:
        col = field.get_col(model._meta.db_table)
        converters.append(
            (col, connection.ops.get_db_converters(col) + col.get_db_converters(connection))
        )
    return fields.index(model._meta.pk), [f.attname for f in fields], converters


def instance(model: type[Model], values) -> Model | None:
    """The model instance from its `columns` values (None when the row was not found: a NULL
    primary key from an outer join)."""
    pk_place, names, converters = _reading(model, connection.vendor)
    if values[pk_place] is None:
        return None
    converted = []
    for value, (col, field_converters) in zip(values, converters, strict=True):
        for convert in field_converters:
            value = convert(value, col, connection)
        converted.append(value)
    return model.from_db(connection.alias, names, converted)


def read_one(sql: str, params, *models: type[Model]) -> tuple | None:
    """The first row of `sql` (which selects `columns` of each model in turn), as one instance
    (or None) per model; None when there is no row."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else _split(row, models)


def read_all(sql: str, params, *models: type[Model]) -> list[tuple]:
    """Every row of `sql`, each as one instance (or None) per model, as `read_one` gives it."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [_split(row, models) for row in rows]


def _split(row, models) -> tuple:
    found, start = [], 0
    for model in models:
        end = start + len(model._meta.concrete_fields)
        found.append(instance(model, row[start:end]))
        start = end
    return tuple(found)
