"""Writing many rows' different values in one statement.

Django's bulk_update builds a CASE WHEN per field and row: for a flush of 50 outcomes it
spent longer building the SQL than the database spent running it. On PostgreSQL one
`UPDATE ... FROM unnest(arrays)` does the same; other databases get Django's bulk_update.
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
    where_sql, where_params = _where(queryset)
    sql, params = values_update_sql(
        queryset.model, objects, fields,
        condition=f"t.{_quote(queryset.model._meta.pk.column)} IN ({where_sql})"
        if where_sql else "",
        condition_params=where_params,
    )
    with server_side_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def values_update_sql(model, objects, fields, *, condition="", condition_params=()):
    """(sql, params) of `UPDATE <table> AS t SET ... FROM unnest(<one array per column>)
    AS v WHERE ...` for PostgreSQL: one parameter per column whatever the number of rows, so
    the statement stays small and cheap to build. `condition` (on alias t) limits the rows."""
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    arrays = [
        [column.get_db_prep_save(getattr(obj, column.attname), connection) for obj in objects]
        for column in columns
    ]
    names = [_quote(column.column) for column in columns]
    unnest = ", ".join(f"%s::{column.db_type(connection)}[]" for column in columns)
    # Only the model's own table and column names are formatted in; values are parameters.
    sql = (
        f"UPDATE {_quote(meta.db_table)} AS t SET "  # noqa: S608
        + ", ".join(f"{name} = v.{name}" for name in names[1:])
        + f" FROM unnest({unnest}) AS v({', '.join(names)})"
        + f" WHERE t.{names[0]} = v.{names[0]}"
        + (f" AND {condition}" if condition else "")
    )
    return sql, [*arrays, *condition_params]


def insert_rows(model, rows, fields):
    """Inserts `rows` (dicts of `fields`, attnames, with values as the database takes them:
    numbers, text, aware datetimes, None) skipping any that would break a unique constraint.
    PostgreSQL: one `INSERT ... SELECT FROM unnest(...)` per 20,000 rows, with no model
    instance built; elsewhere Django's bulk_create."""
    rows = list(rows)
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], batch_size=2000,
                                  ignore_conflicts=True)
        return
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    names = ", ".join(_quote(column.column) for column in columns)
    unnest = ", ".join(f"%s::{column.db_type(connection)}[]" for column in columns)
    sql = (f"INSERT INTO {_quote(meta.db_table)} ({names}) "  # noqa: S608 - see values_update_sql
           f"SELECT * FROM unnest({unnest}) ON CONFLICT DO NOTHING")
    with server_side_cursor() as cursor:
        for start in range(0, len(rows), 20_000):
            chunk = rows[start:start + 20_000]
            cursor.execute(sql, [[row[column.attname] for row in chunk] for column in columns])


def server_side_cursor():
    """A cursor of the connection Django uses (same transaction) that binds parameters on
    the server: Django's client-side binding spells every array element out in the SQL
    text, which took longer than running the statement. (Django opens psycopg connections
    with client-side cursors: the raw connection's own cursor() would bind on the client.)"""
    connection.ensure_connection()
    raw = connection.connection
    try:
        import psycopg
    except ImportError:  # psycopg2 binds on the client whatever the cursor
        return raw.cursor()
    if isinstance(raw, psycopg.Connection):
        return psycopg.Cursor(raw)
    return raw.cursor()


def _quote(name):
    return connection.ops.quote_name(name)


def _where(queryset):
    """The queryset's own filter as `SELECT pk ...` (empty when it has none)."""
    if not queryset.query.where:
        return "", []
    return queryset.values("pk").query.sql_with_params()
