"""Files that hold a secret (a session's token, a service account's secret, audit keys): mode 600, owner only.

A file others may read is refused, never used; a new one is created with mode 600 in a
folder of mode 700.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cases.errors import CaseError, InvalidRequest

MODE = 0o600


def read_secret_file(path: Path, what: str, *, refused: type[CaseError] = InvalidRequest) -> str:
    """The text of a secret file (`what` names it in messages); `refused` when it is missing, unreadable or open
    to others."""
    try:
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise refused(f"{what} {path} may be read by others: chmod 600 {path}")
        return path.read_text()
    except FileNotFoundError:
        raise refused(f"{what} {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise refused(f"{what} {path} cannot be read: {error.strerror if isinstance(error, OSError) else error}") \
            from None


def write_secret_file(path: Path, text: str, *, append: bool = False) -> None:
    """Write (or, with `append`, add to) a secret file, mode 600 in a folder of mode 700; a rewrite replaces the
    old file at once, never leaving it half-written."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = path if append else path.with_name(path.name + ".partial")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    with os.fdopen(os.open(target, flags, MODE), "a" if append else "w") as handle:
        handle.write(text)
    os.chmod(target, MODE)
    if not append:
        os.replace(target, path)
