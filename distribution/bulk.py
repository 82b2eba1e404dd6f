"""Writing many rows' different values in one statement.

Django's bulk_update builds a CASE WHEN per field and row: for a flush of 50 outcomes it
spent longer building the SQL than the database spent running it. On PostgreSQL one
`UPDATE ... FROM (VALUES ...)` does the same; other databases get Django's bulk_update.
"""

from django.db import connection


def update_rows(queryset, objects, fields):
    """Writes `fields` of `objects` (saved instances of the queryset's model) to the rows of
    `queryset` with their primary keys; rows the queryset excludes are left alone. Returns
    how many rows changed."""
    objects = list(objects)
    if not objects:
        return 0
    if connection.vendor != "postgresql":
        return queryset.bulk_update(objects, fields)
    model = queryset.model
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    casts = [f"%s::{column.db_type(connection)}" for column in columns]
    row_sql = "(" + ", ".join(casts) + ")"
    params = []
    for obj in objects:
        for column in columns:
            value = getattr(obj, column.attname)
            params.append(column.get_db_prep_save(value, connection))
    names = [column.column for column in columns]
    where_sql, where_params = _where(queryset)
    sql = (
        f'UPDATE {meta.db_table} AS t SET '
        + ", ".join(f'"{name}" = v."{name}"' for name in names[1:])
        + f' FROM (VALUES {", ".join([row_sql] * len(objects))}) AS v({", ".join(names)})'
        + f' WHERE t."{names[0]}" = v."{names[0]}"'
        + (f" AND t.{meta.pk.column} IN ({where_sql})" if where_sql else "")
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *where_params])
        return cursor.rowcount


def _where(queryset):
    """The queryset's own filter as `SELECT pk ...` (empty when it has none)."""
    if not queryset.query.where:
        return "", []
    return queryset.values("pk").query.sql_with_params()
