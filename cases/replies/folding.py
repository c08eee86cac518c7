"""Text folded for matching (lowercase, no accents, digits-for-letters undone, punctuation as spaces), with a map back.

>>> f = fold("An InVestigat1on, S.A.R. filed")
>>> f.text
'an investigation s a r filed'
>>> joined = f.join_letters()
>>> joined.text, joined.span(17, 20)
('an investigation sar filed', (18, 23))
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s", "!": "i", "|": "l"}
"""Characters that stand in for letters inside a word ("investigat1on", "l4undering", "$uspicious")."""
ORDINAL = re.compile(r"\d+(st|nd|rd|th|er|re|e|eme|o|a|gg)")
"""Numbers with an ordinal or unit suffix ("1er", "24th", "7gg") keep their digits."""
def invisible(ch: str) -> bool:
    """Whether a character shows nothing and is dropped so that it cannot split a word: every format character
    (soft hyphen, zero-width and direction marks, tags), variation selectors and the combining grapheme joiner."""
    code = ord(ch)
    return (unicodedata.category(ch) == "Cf" or code == 0x034F or 0xFE00 <= code <= 0xFE0F
            or 0xE0100 <= code <= 0xE01EF or code == 0x180E)


@dataclass(frozen=True)
class Folded:
    """Folded text and, for each of its characters, the offset of the original character it came from."""

    text: str
    origin: tuple[int, ...]
    source_length: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original (start, end) of the folded text[start:end]."""
        if start >= end:
            return (self.origin[start] if start < len(self.origin) else self.source_length,) * 2
        return self.origin[start], self.origin[end - 1] + 1

    def join_letters(self, skip_first: bool = False, skip_last: bool = False) -> "Folded":
        """The same text with runs of single letters joined into one word ("s a r" -> "sar").

        With `skip_first` (`skip_last`), a run's first (last) letter stays apart, for an article
        before an acronym or a one-letter word after it ("a s a r" -> "a sar").
        """
        words = _words(self.text)
        keep = [True] * len(self.text)
        run: list[tuple[int, int]] = []
        for start, end in words + [(len(self.text) + 1, len(self.text) + 1)]:
            if end - start == 1 and self.text[start].isalpha():
                run.append((start, end))
                continue
            run = run[1 if skip_first else 0:len(run) - 1 if skip_last else len(run)]
            if len(run) >= 2:
                for (_, left_end), (right_start, _) in zip(run, run[1:]):
                    for i in range(left_end, right_start):
                        keep[i] = False
            run = []
        chars = [(c, o) for c, o, k in zip(self.text, self.origin, keep) if k]
        return Folded("".join(c for c, _ in chars), tuple(o for _, o in chars), self.source_length)


def _words(text: str) -> list[tuple[int, int]]:
    spans, start = [], None
    for i, c in enumerate(text):
        if c == " ":
            if start is not None:
                spans.append((start, i))
                start = None
        elif start is None:
            start = i
    if start is not None:
        spans.append((start, len(text)))
    return spans


def _letters(raw: str) -> list[tuple[str, int]]:
    """Lowercase base letters, digits and other marks of `raw`, each with its offset (accents dropped)."""
    out = []
    for i, ch in enumerate(raw):
        if invisible(ch):
            continue
        for part in unicodedata.normalize("NFKD", ch):
            if unicodedata.combining(part):
                continue
            for low in part.casefold():
                out.append((low, i))
    return out


def _is_wordish(c: str) -> bool:
    return c.isalnum() or c in LEET


def fold(raw: str) -> Folded:
    """Fold `raw` for matching; see the module docstring."""
    chars = _letters(raw)
    # a word is a run of letters, digits and stand-ins; a stand-in becomes its letter when the word has letters
    words: list[list[tuple[str, int]]] = []
    current: list[tuple[str, int]] = []
    for c, i in chars:
        if _is_wordish(c):
            current.append((c, i))
        else:
            if current:
                words.append(current)
            current = []
    if current:
        words.append(current)
    out: list[tuple[str, int]] = []
    for word in words:
        letters = sum(c.isalpha() for c, _ in word)
        if letters and letters < len(word) and not ORDINAL.fullmatch("".join(c for c, _ in word)):
            # a stand-in that ends the word is punctuation ("cash!"), not a letter
            while word and not word[-1][0].isalnum():
                word = word[:-1]
            word = [(LEET.get(c, c) if not c.isalpha() else c, i) for c, i in word]
            word = [(c, i) for c, i in word if c.isalnum()]
        else:
            word = [(c, i) for c, i in word if c.isalnum()]
        if not word:
            continue
        if out:
            out.append((" ", word[0][1]))
        out.extend(word)
    return Folded("".join(c for c, _ in out), tuple(i for _, i in out), len(raw))


def plain(raw: str) -> Folded:
    """`raw` in compatibility form and lowercase, invisible characters dropped, nothing else changed.

    Full-width or styled characters become plain ones ("０ｘ" -> "0x"); used to find addresses,
    hashes and dates, with offsets mapped back to `raw`.
    """
    out: list[tuple[str, int]] = []
    for i, ch in enumerate(raw):
        if invisible(ch):
            continue
        out.extend((c, i) for c in unicodedata.normalize("NFKC", ch).lower())
    return Folded("".join(c for c, _ in out), tuple(i for _, i in out), len(raw))
