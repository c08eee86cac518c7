"""What the `kyt` command groups share: the --db and --as options, the output consoles, times, errors and JSON."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, is_dataclass
from datetime import datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import NoReturn

import typer
from rich.console import Console

from graph.times import parse_time
from ui.messages import render

out = Console(width=None if sys.stdout.isatty() else 160, emoji=False)
err = Console(stderr=True, soft_wrap=True, emoji=False)

DB = typer.Option(None, "--db", help="Database URL (default: $DATABASE_URL, else sqlite:///freezecase.db).")
AS = typer.Option(None, "--as", help="The user you act as (default: $KYT_USER): checked against your sign-in (kyt login).")


class Format(str, Enum):
    """How a command prints what it found: a table for people, or JSON for programs."""

    table = "table"
    json = "json"


def utc_now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(timezone.utc)


def fail(error: Exception) -> NoReturn:
    """Print the error's message for people (ui.messages) on standard error and exit with status 1."""
    err.print(render(error), markup=False, highlight=False)
    raise typer.Exit(1)


def jsonable(value: object) -> object:
    """Plain JSON values: ISO-8601 UTC times with Z, decimals as strings, dataclasses as objects."""
    if is_dataclass(value):
        return jsonable(asdict(value))
    if hasattr(value, "model_dump"):
        return jsonable(value.model_dump())
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def print_json(value: object) -> None:
    """Write the value to standard output as indented JSON (see `jsonable`)."""
    sys.stdout.write(json.dumps(jsonable(value), indent=2) + "\n")


def micro(text: str, option: str) -> int:
    """Microseconds since 1970 of a time given to `option` (ISO-8601 or unix seconds)."""
    found = parse_time(text)
    if found is None:
        raise typer.BadParameter(f"{text!r} is not a time (ISO-8601 or unix seconds)", param_hint=option)
    return found


def utc_datetime(text: str, option: str) -> datetime:
    """The UTC datetime of a time given to `option` (ISO-8601 or unix seconds)."""
    return datetime.fromtimestamp(micro(text, option) / 1e6, tz=timezone.utc)
