"""The tipping-off linter: findings (category, span, reason) for any text about to reach a customer.

>>> result = lint("Your deposit is under review. We filed a SAR.", LintContext())
>>> result.status, [(f.category, f.excerpt) for f in result.findings]
('blocked', [('reporting', 'filed a SAR'), ('reporting', 'SAR')])
>>> lint("Please report a problem with the app from the Help menu.", LintContext(hold=False)).status
'clean'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from cases.replies.folding import Folded, fold, plain
from cases.replies.wording import MONTHS
from cases.replies.terms import Term, load_terms, words

SANCTIONS_TEMPLATE = "sanctions_block"
SIMILAR_ENOUGH = 0.6
"""Free text whose words match less than this share of every approved text needs approval."""
HEX_RUN = re.compile(r"(?<![0-9a-z])(0x)?([0-9a-f]{4,})(?![0-9a-z])")
ANY_CHAIN_ID = re.compile(r"(?<![0-9a-z])(?:0x[0-9a-f]{6,}|[0-9a-f]{40}|[0-9a-f]{64})(?![0-9a-z])")
NAME_NOISE = frozenset(
    "ofac sdn entity entities list listed label labels forta etherscan the and for with from cash group exchange "
    "wallet wallets router proxy fund funds network labs finance protocol token tokens pool bank market service "
    "services team deployer address addresses contract account user bridge hot cold main known other fake "
    "unknown cyber dprk spam via drugs illicit now new inc ltd llc company limited trading global international "
    "capital digital crypto coin swap dao".split())
"""Words of list and entity names too common to block on their own (the whole name still blocks)."""


@dataclass(frozen=True)
class CaseEvidence:
    """What a case knows that the customer must never hear: addresses, hashes, names, categories."""

    addresses: frozenset[str] = frozenset()
    tx_hashes: frozenset[str] = frozenset()
    names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @classmethod
    def from_exposures(cls, evidence: list[dict], categories: list[str], sender: str | None = None) -> "CaseEvidence":
        """The evidence of a case's exposures (graph.evidence dicts) and its deposit's sender."""
        addresses, hashes, names = set(), set(), []
        for item in evidence:
            for source in item.get("sources", []):
                addresses.add(source["address"].lower())
                hashes.update(h.lower() for h in source.get("tx_hashes", []))
                names.extend(n for n in source.get("lists", []) if n not in names)
        if sender:
            addresses.add(sender.lower())
        return cls(frozenset(addresses), frozenset(hashes), tuple(names), tuple(categories))


@dataclass(frozen=True)
class LintContext:
    """Where the text goes: a hold message or not, its language, the case's evidence, the template it came from."""

    hold: bool = True
    locale: str | None = None
    """en, it, fr or es; None checks the terms of every language."""
    evidence: CaseEvidence = CaseEvidence()
    template_id: str | None = None
    approved_texts: tuple[str, ...] = ()
    """The approved texts the message may depart from; empty skips the free-text check."""
    allowed_dates: tuple[str, ...] | None = None
    """The dates a reply may name (the deposit's, the next update's); any other date needs approval.
    None skips the check."""


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a text: which rule, where, and why."""

    rule_id: str
    category: str
    severity: str
    start: int
    end: int
    excerpt: str
    reason: str


@dataclass(frozen=True)
class LintResult:
    """`clean`, `warn` (sent only with a supervisor's approval) or `blocked`, with the findings."""

    status: str
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "block")


def lint(text: str, context: LintContext, terms: tuple[Term, ...] | None = None) -> LintResult:
    """Check `text` for tipping off; see the module docstring."""
    found: dict[tuple[str, int, int], Finding] = {}

    def add(rule_id: str, category: str, severity: str, *, span: tuple[int, int], reason: str) -> None:
        key = (rule_id, *span)
        if key not in found:
            found[key] = Finding(rule_id, category, severity, span[0], span[1], text[span[0]:span[1]], reason)

    folded = fold(text)
    variants = [folded]
    for first in (False, True):
        for last in (False, True):
            joined = folded.join_letters(first, last)
            if all(joined.text != v.text for v in variants):  # most texts have no spelt-out letters
                variants.append(joined)
    for term in terms if terms is not None else load_terms():
        if not term.applies(context.locale, context.hold):
            continue
        if term.category == "sanctions" and context.template_id == SANCTIONS_TEMPLATE:
            continue
        for variant in variants:
            for match in term.compiled.finditer(variant.text):
                add(term.id, term.category, term.severity, span=variant.span(*match.span()), reason=term.reason)
    _chain_ids(text, context, add)
    _names(variants, context.evidence, add)
    if context.allowed_dates is not None and context.hold:
        allowed = {fold(day).text for day in context.allowed_dates}
        for match in DATES.finditer(folded.text):
            if match.group(0) not in allowed:
                add("warn.date", "statutory_date", "warn", span=folded.span(*match.span()),
                    reason="a date other than the deposit date and the next update date; a compliance approver "
                           "must agree")
    if context.approved_texts and _departs(folded.text, context.approved_texts):
        add("warn.free_text", "free_text", "warn", span=(0, len(text)),
            reason="departs from every approved template; a compliance approver must agree")
    findings = tuple(sorted(found.values(), key=lambda f: (f.start, -f.end, f.rule_id)))
    status = "blocked" if any(f.severity == "block" for f in findings) else "warn" if findings else "clean"
    return LintResult(status, findings)


CHAIN_ID_REASON = "contains a wallet address or transaction hash; replies name the deposit by amount, asset and date"
NAME_REASON = "names a mixer, a listed group, an analytics vendor or another party"
"""Findings from the case's own evidence read exactly like the general ones, so that a draft
never tells its writer what the evidence holds."""
_MONTH = "|".join(sorted({fold(m).text for names in MONTHS.values() for m in names.split()}, key=len, reverse=True))
DATES = words(rf"\d{{1,2}}(?:er|st|nd|rd|th)? (?:de )?(?:{_MONTH})(?: de)?(?: \d{{4}})?|(?:{_MONTH}) \d{{1,2}}(?:st|nd|rd|th)?(?: \d{{4}})?|\d{{4}} \d{{1,2}} \d{{1,2}}|\d{{1,2}} \d{{1,2}} \d{{2,4}}")
"""Dates as people write them in the four languages, on folded text ("25 de noviembre de 2026", "2026-12-24")."""


def _chain_ids(text: str, context: LintContext, add) -> None:
    """Addresses and hashes: any in a hold message, and any recognisable part of the case's own."""
    normal = plain(text)
    lowered = normal.text
    if context.hold:
        for match in ANY_CHAIN_ID.finditer(lowered):
            add("flags.chain_id", "flag_details", "block", span=normal.span(*match.span()), reason=CHAIN_ID_REASON)
    known = [h[2:] for h in context.evidence.addresses | context.evidence.tx_hashes]
    if not known:
        return
    for match in HEX_RUN.finditer(lowered):
        prefixed, run = bool(match.group(1)), match.group(2)
        if not (any(c.isdigit() for c in run) or len(run) >= 8):
            continue  # ordinary words spelt in hex letters ("added", "facade")
        starts = any(k.startswith(run) for k in known) and (prefixed or len(run) >= 6)
        ends = any(k.endswith(run) for k in known) and (not run.isdigit() or len(run) >= 5)
        if starts or ends or any(run in k for k in known if len(run) >= 10):
            add("flags.chain_id", "flag_details", "block", span=normal.span(*match.span()), reason=CHAIN_ID_REASON)


def _entity(name: str) -> str:
    """The named party of a list entry: "OFAC SDN: LAZARUS GROUP (DPRK3)" -> "LAZARUS GROUP"."""
    core = re.sub(r"\([^)]*\)", " ", name)
    entity = re.match(r"\s*ofac sdn entity (.*?):", core, flags=re.I)
    if entity:
        return entity.group(1)
    return core.split(":", 1)[1] if ":" in core else core


def _name_terms(evidence: CaseEvidence) -> list[str]:
    phrases = []
    for name in evidence.names:
        raw_words = [w for w in re.split(r"[^\w]+", _entity(name)) if w.isalpha()]
        if not raw_words:
            continue
        phrases.append(fold(" ".join(raw_words)).text)
        # a person ("Roman SEMENOV"): only the surname, in capitals, blocks on its own, not a first name
        person = any(w.isupper() for w in raw_words) and not all(w.isupper() for w in raw_words)
        singles = [w for w in raw_words if w.isupper()] if person else raw_words
        phrases += [t for t in (fold(w).text for w in singles) if len(t) >= 4 and t not in NAME_NOISE]
    # sanctions wording is a warning, not a block: the sanctions notice may name it (OFAC FAQ 647)
    phrases += [fold(c.replace("_", " ")).text for c in evidence.categories if c != "sanctions"]
    return sorted({p for p in phrases if p}, key=len, reverse=True)


def _names(variants: tuple[Folded, ...], evidence: CaseEvidence, add) -> None:
    phrases = _name_terms(evidence)
    if not phrases:
        return
    pattern = words("|".join(re.escape(p) for p in phrases))
    for variant in variants:
        for match in pattern.finditer(variant.text):
            add("flags.names", "flag_details", "block", span=variant.span(*match.span()), reason=NAME_REASON)


def _departs(folded_text: str, approved: tuple[str, ...]) -> bool:
    mine = folded_text.split()
    if not mine:
        return False
    best = 0.0
    for other in approved:
        theirs = fold(other).text.split()
        best = max(best, SequenceMatcher(None, mine, theirs, autojunk=False).ratio())
    return best < SIMILAR_ENOUGH
