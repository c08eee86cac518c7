"""The tipping-off terms (tipping_off.toml) as checked, compiled records the linter and the console use.

>>> terms = load_terms()
>>> sorted({t.category for t in terms if t.severity == "block"})[:3]
['accusation', 'authority_timing', 'confirm_deny']
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cases.errors import InvalidRequest

TERMS_FILE = Path(__file__).with_name("tipping_off.toml")
BLOCK_CATEGORIES = ("reporting", "suspicion_crime", "investigation", "flag_details", "authority_timing",
                    "confirm_deny", "accusation")
"""The categories that block (docs/replies.md, "Tipping off")."""
WARN_CATEGORIES = ("sanctions", "statutory_date", "free_text")
"""The categories that need a supervisor's approval before the text is sent."""
LOCALES = ("en", "it", "fr", "es", "de", "pt")
KEYS = {"id", "category", "severity", "scope", "languages", "reason", "patterns"}
OPTIONAL = {"only_declared"}


@dataclass(frozen=True)
class Term:
    """One named thing that must not reach a customer, with the patterns that find it."""

    id: str
    category: str
    severity: str
    scope: str
    languages: tuple[str, ...]
    reason: str
    patterns: tuple[str, ...]
    compiled: re.Pattern
    only_declared: bool = False
    """Checked only in messages declared in its languages (a word that is innocent elsewhere)."""

    def applies(self, locale: str | None, hold: bool) -> bool:
        """Whether the term is checked in a message of this language and context.

        English terms also run on hold messages in other languages (agents mix in English
        jargon), unless the term is `only_declared`.
        """
        if self.scope == "hold" and not hold:
            return False
        if locale is None or "*" in self.languages or locale in self.languages:
            return True
        return hold and "en" in self.languages and not self.only_declared


def words(pattern: str) -> re.Pattern:
    """A pattern matched only as whole words of folded text."""
    return re.compile(rf"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])")


def _check(number: int, raw: dict, seen: set[str]) -> list[str]:
    problems = [f"term {number}: unknown key {key!r}" for key in sorted(set(raw) - KEYS - OPTIONAL)]
    problems += [f"term {number}: missing {key!r}" for key in sorted(KEYS - set(raw))]
    if problems:
        return problems
    name = raw["id"]
    if name in seen:
        problems.append(f"term {name}: the id is used twice")
    if raw["severity"] not in ("block", "warn"):
        problems.append(f"term {name}: severity must be block or warn, not {raw['severity']!r}")
    allowed = BLOCK_CATEGORIES if raw["severity"] == "block" else WARN_CATEGORIES
    if raw["category"] not in allowed:
        problems.append(f"term {name}: category {raw['category']!r} is not one of {', '.join(allowed)}")
    if raw["scope"] not in ("always", "hold"):
        problems.append(f"term {name}: scope must be always or hold, not {raw['scope']!r}")
    unknown = [lang for lang in raw["languages"] if lang != "*" and lang not in LOCALES]
    if unknown or not raw["languages"]:
        problems.append(f"term {name}: languages must be '*' or among {', '.join(LOCALES)}")
    for pattern in raw["patterns"]:
        try:
            words(pattern)
        except re.error as error:
            problems.append(f"term {name}: pattern {pattern!r} is not a regular expression: {error}")
    return problems


def parse_terms(data: dict, source: str) -> tuple[Term, ...]:
    """Terms from the parsed file, or InvalidRequest listing every problem."""
    problems, seen, terms = [], set(), []
    for number, raw in enumerate(data.get("term", []), start=1):
        found = _check(number, raw, seen)
        problems += found
        if found:
            continue
        seen.add(raw["id"])
        patterns = tuple(raw["patterns"])
        terms.append(Term(raw["id"], raw["category"], raw["severity"], raw["scope"], tuple(raw["languages"]),
                          raw["reason"], patterns, words("|".join(f"(?:{p})" for p in patterns)),
                          bool(raw.get("only_declared", False))))
    if problems:
        raise InvalidRequest(f"{source}: " + "; ".join(problems))
    return tuple(terms)


@lru_cache(maxsize=1)
def load_terms() -> tuple[Term, ...]:
    """The shipped terms, checked and compiled once."""
    with TERMS_FILE.open("rb") as handle:
        return parse_terms(tomllib.load(handle), TERMS_FILE.name)
