"""The `kyt` console script: `kyt ingest` starts without loading the case database's modules.

Every other command, and `kyt --help`, goes through the full command line in ui.cli.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Run `kyt`: the ingest command on its own (it needs an HTTP client, not SQLAlchemy), else the whole app."""
    if len(sys.argv) > 1 and sys.argv[1] == "ingest":
        import typer

        from ui.ingest_cli import ingest_command

        alone = typer.Typer(add_completion=False)
        alone.command()(ingest_command)
        alone(args=sys.argv[2:], prog_name="kyt ingest")
        return
    from ui.cli import app

    app()
