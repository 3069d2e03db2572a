"""Database-level guards: tables that refuse UPDATE/DELETE (and TRUNCATE), columns that never
change, rows that never change once final.

Used by migrations (PostgreSQL and SQLite). The model layer refuses these changes too; the
triggers make sure a raw SQL statement or a bug elsewhere cannot slip past.
"""

from __future__ import annotations


def append_only_sql(vendor: str, table: str, label: str) -> tuple[list[str], list[str]]:
    """(forward, reverse) SQL making a table refuse UPDATE and DELETE."""
    name = f"{table}_append_only"
    if vendor == "postgresql":
        forward = [
            f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION '{label} are append-only: % refused', TG_OP; END; $$ LANGUAGE plpgsql;""",
            f"CREATE TRIGGER {name} BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}();",
        ]
        reverse = [f"DROP TRIGGER IF EXISTS {name} ON {table};", f"DROP FUNCTION IF EXISTS {name}();"]
    elif vendor == "sqlite":
        forward = [
            f"CREATE TRIGGER {name}_u BEFORE UPDATE ON {table} BEGIN SELECT RAISE(ABORT, '{label} are append-only: UPDATE refused'); END;",
            f"CREATE TRIGGER {name}_d BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, '{label} are append-only: DELETE refused'); END;",
        ]
        reverse = [f"DROP TRIGGER IF EXISTS {name}_u;", f"DROP TRIGGER IF EXISTS {name}_d;"]
    else:
        return [], []
    return forward, reverse


def frozen_columns_sql(vendor: str, table: str, columns: list[str], label: str) -> tuple[list[str], list[str]]:
    """(forward, reverse) SQL refusing any UPDATE that changes one of `columns`."""
    name = f"{table}_frozen"
    if vendor == "postgresql":
        changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in columns)
        forward = [
            f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
  IF {changed} THEN RAISE EXCEPTION '{label} is immutable'; END IF;
  RETURN NEW;
END; $$ LANGUAGE plpgsql;""",
            f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}();",
        ]
        reverse = [f"DROP TRIGGER IF EXISTS {name} ON {table};", f"DROP FUNCTION IF EXISTS {name}();"]
    elif vendor == "sqlite":
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)
        forward = [
            f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} WHEN {changed} BEGIN SELECT RAISE(ABORT, '{label} is immutable'); END;"
        ]
        reverse = [f"DROP TRIGGER IF EXISTS {name};"]
    else:
        return [], []
    return forward, reverse


def no_truncate_sql(vendor: str, table: str, label: str) -> tuple[list[str], list[str]]:
    """(forward, reverse) SQL making a table refuse TRUNCATE (PostgreSQL: a statement-level
    trigger; row triggers do not fire on TRUNCATE). SQLite has no TRUNCATE: nothing to do."""
    name = f"{table}_no_truncate"
    if vendor != "postgresql":
        return [], []
    forward = [
        f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION '{label} are append-only: TRUNCATE refused'; END; $$ LANGUAGE plpgsql;""",
        f"CREATE TRIGGER {name} BEFORE TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {name}();",
    ]
    reverse = [f"DROP TRIGGER IF EXISTS {name} ON {table};", f"DROP FUNCTION IF EXISTS {name}();"]
    return forward, reverse


def final_rows_sql(
    vendor: str, table: str, column: str, final_values: list[str], label: str
) -> tuple[list[str], list[str]]:
    """(forward, reverse) SQL refusing any UPDATE of a row whose OLD `column` is one of
    `final_values`, and any DELETE: rows move freely until final, then never again."""
    name = f"{table}_final"
    values = ", ".join(f"'{v}'" for v in final_values)
    if vendor == "postgresql":
        forward = [
            f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN RAISE EXCEPTION '{label} are never deleted: DELETE refused'; END IF;
  IF OLD.{column} IN ({values}) THEN RAISE EXCEPTION '{label} are final once finished (%): UPDATE refused', OLD.{column}; END IF;
  RETURN NEW;
END; $$ LANGUAGE plpgsql;""",
            f"CREATE TRIGGER {name} BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}();",
        ]
        reverse = [f"DROP TRIGGER IF EXISTS {name} ON {table};", f"DROP FUNCTION IF EXISTS {name}();"]
    elif vendor == "sqlite":
        forward = [
            f"CREATE TRIGGER {name}_u BEFORE UPDATE ON {table} WHEN OLD.{column} IN ({values}) "
            f"BEGIN SELECT RAISE(ABORT, '{label} are final once finished: UPDATE refused'); END;",
            f"CREATE TRIGGER {name}_d BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{label} are never deleted: DELETE refused'); END;",
        ]
        reverse = [f"DROP TRIGGER IF EXISTS {name}_u;", f"DROP TRIGGER IF EXISTS {name}_d;"]
    else:
        return [], []
    return forward, reverse


def run_sql(schema_editor, statements: list[str]) -> None:
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)  # no params: '%' in PL/pgSQL stays literal


def guard_operation(builder, *args):
    """A RunPython operation applying builder(vendor, *args) forwards and its reverse back."""
    from django.db import migrations

    def forward(apps, schema_editor):
        run_sql(schema_editor, builder(schema_editor.connection.vendor, *args)[0])

    def backward(apps, schema_editor):
        run_sql(schema_editor, builder(schema_editor.connection.vendor, *args)[1])

    return migrations.RunPython(forward, backward)


def reguard_operation(builder, *args, previous_args: tuple | None = None):
    """Re-create a guard after a migration that changed its table: drop it (SQLite drops it
    anyway when Django rebuilds a table to add a column) and create it again, possibly with
    new arguments (e.g. more frozen columns). Reverse: back to `previous_args`."""
    from django.db import migrations

    def forward(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        run_sql(schema_editor, builder(vendor, *args)[1] + builder(vendor, *args)[0])

    def backward(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        old = previous_args or args
        run_sql(schema_editor, builder(vendor, *args)[1] + builder(vendor, *old)[0])

    return migrations.RunPython(forward, backward)
