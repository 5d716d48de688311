"""Postgres warehouse access: connections, SQL files from include/sql, COPY in and chunked reads out."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesforce_access.errors import ConfigurationError, RetryableError

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parents[2] / "include" / "sql"


def sql_text(name: str, schema: str) -> str:
    """Return the SQL file ``include/sql/<name>.sql`` with ``{schema}`` filled in."""
    return (SQL_DIR / f"{name}.sql").read_text().format(schema=_quoted(schema))


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@contextmanager
def connect(conn_id: str):
    """Open a psycopg2 connection from an Airflow Postgres connection; commit on success, else roll back.

    Raises:
        ConfigurationError: the connection is missing or of another type.
        RetryableError: Postgres cannot be reached.
    """
    import psycopg2

    params = connection_params(conn_id)
    try:
        conn = psycopg2.connect(**params)
    except psycopg2.OperationalError as exc:
        where = params.get("host") or "the default socket"
        raise RetryableError(
            f"Cannot reach the warehouse of connection {conn_id!r} at {where}:{params.get('port')}: "
            f"{str(exc).strip()}. Check that Postgres runs and the connection's host, port and login."
        ) from exc
    try:
        yield conn
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()


def connection_params(conn_id: str) -> dict[str, Any]:
    from airflow.sdk import BaseHook

    try:
        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:
        raise ConfigurationError(
            f"Airflow connection {conn_id!r} is not defined; create it (conn type postgres) or set "
            f"AIRFLOW_CONN_{conn_id.upper()}."
        ) from exc
    if conn.conn_type not in ("postgres", "postgresql"):
        raise ConfigurationError(
            f"Connection {conn_id!r} has conn type {conn.conn_type!r}; it must be postgres."
        )
    params: dict[str, Any] = {
        "host": conn.host or None,
        "port": conn.port or 5432,
        "user": conn.login or None,
        "password": conn.password or None,
        "dbname": conn.schema or "postgres",
        "application_name": "salesforce_access",
    }
    extra = conn.extra_dejson or {}
    for key in ("sslmode", "sslrootcert", "connect_timeout"):
        if key in extra:
            params[key] = extra[key]
    return {k: v for k, v in params.items() if v is not None}


def run_sql_file(cursor, name: str, schema: str, params: dict[str, Any] | None = None) -> None:
    cursor.execute(sql_text(name, schema), params)


def copy_rows(cursor, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY rows into ``table``; lists become Postgres arrays, dicts JSON. Returns the row count."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    count = 0
    for row in rows:
        writer.writerow([_csv_value(value) for value in row])
        count += 1
    if count:
        buffer.seek(0)
        cursor.copy_expert(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer
        )
    return count


def copy_frame(cursor, table: str, frame: pd.DataFrame) -> int:
    """COPY a DataFrame whose columns are named like the table's."""
    if frame.empty:
        return 0
    return copy_rows(cursor, table, list(frame.columns), frame.itertuples(index=False, name=None))


def _csv_value(value: Any) -> Any:
    if value is None:
        return "\\N"
    if isinstance(value, float) and value != value:  # NaN from pandas means missing
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (list, tuple)):
        return "{" + ",".join(_array_item(item) for item in value) + "}"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _array_item(item: Any) -> str:
    text = str(item).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def read_chunks(
    conn, query: str, params: dict[str, Any], *, chunk_rows: int = 20000
) -> Iterator[list[tuple]]:
    """Stream a query's rows in chunks through a server-side cursor so no step holds a whole object."""
    with conn.cursor(name=f"chunks_{id(query) & 0xFFFFFF:x}") as cursor:
        cursor.itersize = chunk_rows
        cursor.execute(query, params)
        while True:
            rows = cursor.fetchmany(chunk_rows)
            if not rows:
                return
            yield rows


def sql_statements(name: str, schema: str) -> dict[str, str]:
    """Split ``include/sql/<name>.sql`` into its statements named by ``-- name: <statement>`` lines."""
    statements: dict[str, list[str]] = {}
    current = None
    for line in sql_text(name, schema).splitlines():
        if line.startswith("-- name:"):
            current = line.removeprefix("-- name:").strip()
            statements[current] = []
        elif current is not None:
            statements[current].append(line)
    return {key: "\n".join(lines).strip() for key, lines in statements.items()}


def ensure_schema(conn, schema: str) -> None:
    """Create or update the warehouse tables and views; safe to run at the start of every run."""
    with conn.cursor() as cursor:
        # Two first runs starting together must not race on CREATE TABLE IF NOT EXISTS.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('salesforce_access:ddl'))")
        for name in ("schema", "staging", "views"):
            run_sql_file(cursor, name, schema)
