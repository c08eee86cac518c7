"""The tipping-off linter: findings (category, span, reason) for any text about to reach a customer.

>>> result = lint("Your deposit is under review. We filed a SAR.", LintContext())
>>> result.status, [(f.category, f.excerpt) for f in result.findings]
('blocked', [('reporting', 'filed a SAR'), ('reporting', 'SAR')])
>>> lint("Please report a problem with the app from the Help menu.", LintContext(hold=False)).status
'clean'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from cases.replies import chain_ids
from cases.replies import parties as listed
from cases.replies import signal as learned
from cases.replies.folding import Folded, fold, plain
from cases.replies.wording import MONTHS
from cases.replies.terms import Term, load_terms, words

SANCTIONS_TEMPLATE = "sanctions_block"
SIMILAR_ENOUGH = 0.6
"""Free text whose words match less than this share of every approved text needs approval."""
HYPHENS = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2043\u2212\u00b7\ufe58\ufe63\uff0d")
TRACKING = re.compile(r"(?<![0-9A-Za-z])[Ff][Cc]-[2-9A-HJ-NP-Za-hj-np-z]{4}-[2-9A-HJ-NP-Za-hj-np-z]{4}(?![0-9A-Za-z])")
"""Tracking numbers ("FC-7KQ2-9XMD"), blanked before any check: their letters may spell anything."""
SIGNAL_WORDS = 4
"""The learned signal judges texts of at least this many words (a shorter one gives it too little to go on)."""


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
    parties: listed.Parties | None = None
    """The listed parties' names that block; None reads the configured register (KYT_PARTIES, else the shipped one)."""
    learned: bool = True
    """Whether the learned signal may hold the text (it never clears one); off for an unedited template."""
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
    """`clean`, `warn` (sent only with a supervisor's approval) or `blocked`, with the findings.

    The status and the findings depend on the text alone (and on the customer's own facts: name,
    dates, the templates); `notes` say what of the case's evidence the text names, for supervisors
    only, and never change the status.
    """

    status: str
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    notes: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "block")


def lint(text: str, context: LintContext, terms: tuple[Term, ...] | None = None) -> LintResult:
    """Check `text` for tipping off; see the module docstring."""
    found: dict[tuple[str, int, int], Finding] = {}
    notes: dict[tuple[str, int, int], Finding] = {}

    def add(rule_id: str, category: str, severity: str, *, span: tuple[int, int], reason: str) -> None:
        key = (rule_id, *span)
        into = notes if severity == "note" else found
        if key not in into:
            into[key] = Finding(rule_id, category, severity, span[0], span[1], text_in[span[0]:span[1]], reason)

    text_in = text
    text = TRACKING.sub(lambda m: " " * len(m.group(0)), text)  # same length: the offsets still hold
    folded = fold(text)
    variants = [folded]
    unhyphenated = _unhyphenated(text)
    if unhyphenated.text != folded.text:
        variants.append(unhyphenated)
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
    if context.hold:
        _parties(variants, context, add)
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
    if context.hold and context.learned and not any(f.severity == "block" for f in found.values()):
        _learned(text, add)
    findings = tuple(sorted(found.values(), key=lambda f: (f.start, -f.end, f.rule_id)))
    status = "blocked" if any(f.severity == "block" for f in findings) else "warn" if findings else "clean"
    return LintResult(status, findings, tuple(sorted(notes.values(), key=lambda f: (f.start, -f.end))))


NAME_REASON = "names a mixer, a listed group, an analytics vendor or another party"
EVIDENCE_NOTE = chain_ids.EVIDENCE_NOTE
_MONTH = "|".join(sorted({fold(m).text for names in MONTHS.values() for m in names.split()}, key=len, reverse=True))
DATES = words(rf"\d{{1,2}}(?:er|st|nd|rd|th)? (?:de )?(?:{_MONTH})(?: de)?(?: \d{{4}})?|(?:{_MONTH}) \d{{1,2}}(?:st|nd|rd|th)?(?: \d{{4}})?|\d{{4}} \d{{1,2}} \d{{1,2}}|\d{{1,2}} \d{{1,2}} \d{{2,4}}")
"""Dates as people write them in the four languages, on folded text ("25 de noviembre de 2026", "2026-12-24")."""


def _chain_ids(text: str, context: LintContext, add) -> None:
    """Addresses, hashes and pieces of them in a hold message, whatever the case; the case's own as notes."""
    normal = plain(text)
    if context.hold:
        chain_ids.scan(normal.text, normal.span, add)
    known = [h[2:] if h.startswith("0x") else h for h in context.evidence.addresses | context.evidence.tx_hashes]
    if known:
        chain_ids.notes(normal.text, normal.span, known=known, add=add)


def _unhyphenated(text: str) -> Folded:
    """The text folded with hyphens inside words dropped ("Er-mitt-lung" -> "ermittlung"), offsets kept."""
    kept = [i for i, c in enumerate(text) if not (c in HYPHENS and 0 < i < len(text) - 1 and text[i + 1].isalpha()
                                                   and unicodedata.category(text[i - 1])[0] in "LM")]
    joined = fold("".join(text[i] for i in kept))
    return Folded(joined.text, tuple(kept[o] for o in joined.origin), len(text))


def _learned(text: str, add) -> None:
    """Hold the text when the learned signal finds it likely enough to tip off, naming the words that weighed most."""
    model = learned.load()
    if model is None or len(learned.prepared(text).split()) < SIGNAL_WORDS:
        return
    chance = model.probability(text)
    if chance >= model.threshold:
        words_ = ", ".join(f"'{r.word}'" for r in model.reasons(text)) or "none alone"
        add("signal.learned", "learned_signal", "warn", span=(0, len(text)),
            reason=f"the learned signal puts the chance that it tips off at {chance:.0%} (it holds from "
                   f"{model.threshold:.0%}); the words that weighed most: {words_}")


def _parties(variants: list[Folded], context: LintContext, add) -> None:
    """Names of listed parties (the shipped register or the platform's), wherever they stand, a greeting too."""
    register = context.parties if context.parties is not None else listed.configured()
    if register.pattern is None:
        return
    for variant in variants:
        for match in register.pattern.finditer(variant.text):
            add("flags.parties", "flag_details", "block", span=variant.span(*match.span()), reason=NAME_REASON)


def _name_terms(evidence: CaseEvidence) -> list[str]:
    """The case's own names and categories as folded phrases (each word of a name too)."""
    phrases = []
    for name in evidence.names:
        phrases += listed.phrases(name)
        phrases += [w for w in fold(listed.party_name(name)).text.split() if len(w) >= 4 and w not in listed.NOISE]
    phrases += [fold(c.replace("_", " ")).text for c in evidence.categories]
    return sorted({p for p in phrases if p}, key=len, reverse=True)


def _names(variants: list[Folded], evidence: CaseEvidence, add) -> None:
    """What of the case's names and categories the text holds, as notes for a supervisor."""
    phrases = _name_terms(evidence)
    if not phrases:
        return
    pattern = words("|".join(re.escape(p) for p in phrases))
    for variant in variants:
        for match in pattern.finditer(variant.text):
            add("case.evidence", "flag_details", "note", span=variant.span(*match.span()), reason=EVIDENCE_NOTE)


def _departs(folded_text: str, approved: tuple[str, ...]) -> bool:
    mine = folded_text.split()
    if not mine:
        return False
    best = 0.0
    for other in approved:
        theirs = fold(TRACKING.sub(" ", other)).text.split()
        best = max(best, SequenceMatcher(None, mine, theirs, autojunk=False).ratio())
    return best < SIMILAR_ENOUGH
