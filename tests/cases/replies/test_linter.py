"""The tipping-off linter: exact findings on hand-written texts, evidence, context, and invariants."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cases.replies.linter import CaseEvidence, LintContext, lint

EVIDENCE = CaseEvidence(
    addresses=frozenset({"0x098b716b8aaf21512996dc57eb0615e2383e2f96", "0xf223e272271a2f150cbfdd339428b6c21db0de5c"}),
    tx_hashes=frozenset({"0x" + "ab12" * 16}),
    names=("OFAC SDN: LAZARUS GROUP (DPRK3)", "Etherscan via Forta: Nomad Bridge Exploiter 2",
           "OFAC SDN: Roman SEMENOV (DPRK3)"),
    categories=("sanctions", "stolen_funds"))
HOLD = LintContext(learned=False, evidence=EVIDENCE)


def found(text: str, context: LintContext = HOLD) -> list[tuple[str, str, str]]:
    return [(f.category, f.severity, f.excerpt) for f in lint(text, context).findings]


def test_findings_carry_category_span_and_reason():
    text = "Dear Ada, we filed a SAR about your deposit."
    result = lint(text, HOLD)
    assert result.status == "blocked"
    assert [(f.rule_id, f.category, f.excerpt) for f in result.findings] == [
        ("reporting.reported_en", "reporting", "filed a SAR"), ("reporting.acronyms", "reporting", "SAR")]
    first = result.findings[0]
    assert text[first.start:first.end] == "filed a SAR" and first.reason


def test_every_category_in_every_language():
    cases = {
        "reporting": ["We reported you to FinCEN.", "Abbiamo segnalato il deposito all'UIF.",
                      "Une déclaration de soupçon a été transmise.", "Hemos comunicado la operación al SEPBLAC."],
        "suspicion_crime": ["The funds look like money laundering.", "I fondi sono di provenienza illecita.",
                            "Ces fonds sont suspects.", "Los fondos son sospechosos."],
        "investigation": ["The police asked us to hold it.", "È in corso un'indagine.",
                          "Une enquête est ouverte.", "Hay una investigación abierta."],
        "flag_details": ["The funds were stolen in a hack.", "I fondi sono collegati a un portafoglio rubato.",
                         "Les fonds sont liés à une adresse d'un mixeur.", "Los fondos están vinculados a una billetera."],
        "authority_timing": ["We must wait 7 working days.", "Dobbiamo attendere 31 giorni.",
                             "Il faut attendre 7 jours ouvrables.", "Debemos esperar 7 días hábiles."],
        "confirm_deny": ["We have not reported you.", "Non l'abbiamo segnalata.",
                         "Nous ne vous avons pas signalé.", "No le hemos denunciado."],
        "accusation": ["We do not believe your explanation.", "I documenti sono falsificati.",
                       "Vos justificatifs semblent faux.", "Sus documentos parecen falsos."],
    }
    for category, texts in cases.items():
        for locale, text in zip(("en", "it", "fr", "es"), texts):
            context = LintContext(learned=False, locale=locale)
            assert category in {f.category for f in lint(text, context).blocking}, (category, locale, text)


def test_tricks_with_case_accents_spacing_and_digits_still_block():
    for text in ("we filed an S.A.R.", "a s a r was filed", "InVeStIgAtIoN ongoing", "investigat1on ongoing",
                 "i n v e s t i g a t i o n", "the indagini continue", "une enquete", "una investigacion",
                 "money-laundering", "m0ney l4undering", "F I U informed", "ransom\u200bware"):
        assert lint(text, LintContext(learned=False)).status == "blocked", text


def test_ordinary_words_pass():
    for text in ("Please report a problem with the app from the Help menu.",
                 "Your deposit is under review; we will write again by 2 December 2026.",
                 "The bank account linked to your profile is unchanged.",
                 "Your card was suspended at your request.",
                 "Please send a statement from the exchange that sent the funds.",
                 "You can complain to the New York State Department of Financial Services.",
                 "We added your documents to the review."):
        assert lint(text, HOLD).status == "clean", text


def test_outside_a_hold_only_unmistakable_tipping_off_blocks():
    general = LintContext(learned=False, hold=False)
    assert lint("We are investigating the login outage.", general).status == "clean"
    assert lint("We are investigating the login outage.", LintContext(learned=False)).status == "blocked"
    assert lint("We sent a suspicious activity report.", general).status == "blocked"


def test_spans_survive_characters_that_change_length_and_full_width_addresses_block():
    text = "İİİİ send to 0x098b716b8aaf21512996dc57eb0615e2383e2f96 now"
    [finding] = [f for f in lint(text, HOLD).findings if f.rule_id == "flags.chain_id"]
    assert text[finding.start:finding.end] == "0x098b716b8aaf21512996dc57eb0615e2383e2f96"
    wide = "".join(chr(ord(c) + 0xFEE0) for c in "0x098b716b8aaf21512996dc57eb0615e2383e2f96")
    assert lint(f"from {wide}", HOLD).status == "blocked"


def test_english_jargon_blocks_in_any_language_but_not_an_innocent_word():
    assert lint("Abbiamo reported your account.", LintContext(learned=False, locale="it")).status == "blocked"
    assert lint("Your account has been reported.", LintContext(learned=False, locale="en")).status == "blocked"
    assert lint("Le enviamos sus documentos.", LintContext(learned=False, locale="es")).status == "clean"


def test_no_pattern_repeats_a_group_without_bound():
    # "(ha |ha sido |...)*" backtracks exponentially on "ha ha ha ..."; groups repeat {0,n} instead
    import re

    from cases.replies.terms import load_terms
    unbounded = [(t.id, p) for t in load_terms() for p in t.patterns if re.search(r"\)[*+]", p)]
    assert unbounded == []


def test_listed_parties_addresses_and_pieces_block_whatever_the_case():
    alone = LintContext(learned=False)
    assert ("flag_details", "block", "0x098b716b8aaf21512996dc57eb0615e2383e2f96") in found(
        "It came from 0x098b716b8aaf21512996dc57eb0615e2383e2f96.", alone)
    assert ("flag_details", "block", "2f96") in found("the wallet ending in 2f96", alone)
    assert ("flag_details", "block", "0xf223e2") in found("the sender 0xf223e2 is the issue", alone)
    assert ("flag_details", "block", "4f3a") in found("l'indirizzo che inizia con 4f3a", alone)
    assert ("flag_details", "block", "Lazarus") in found("a wallet of Lazarus", alone)
    assert ("flag_details", "block", "Semenov") in found("Mr Semenov is involved.", alone)
    assert ("flag_details", "block", "Garantex") in found("Sie haben über Garantex gezahlt.", alone)
    assert ("flag_details", "block", "stolen") in found("This involves stolen funds.", alone)
    assert ("flag_details", "block", "bc1qa5wkgaew2dkv56kfvj49j0av5nml45x9ek9hz6") in found(
        "from bc1qa5wkgaew2dkv56kfvj49j0av5nml45x9ek9hz6", alone)
    assert ("flag_details", "block", "TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf") in found(
        "from TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf today", alone)
    # a person's first name, a common word of a list name and a tracking number are not flags
    for text in ("Dear Roman, please check your spam folder.", "We added a note to your file.",
                 "Your tracking number is FC-7AB2-9CDE.", "It is about the Nomad matter."):
        assert lint(text, alone).status == "clean", text


def test_the_case_evidence_gives_supervisor_notes_and_never_changes_the_verdict():
    text = "It is about the Nomad matter, the wallet 0xf223e272 and the stolen funds."
    with_case, without = lint(text, HOLD), lint(text, LintContext(learned=False))
    assert (with_case.status, with_case.findings) == (without.status, without.findings)
    assert without.notes == ()
    assert [(n.rule_id, n.severity, n.excerpt) for n in with_case.notes] == [
        ("case.evidence", "note", "Nomad"), ("case.evidence", "note", "0xf223e272"),
        ("case.evidence", "note", "stolen funds")]


def test_a_name_anywhere_blocks_and_tracking_numbers_never_do():
    assert lint("Dear Roman Semenov, your deposit is under review.", LintContext(learned=False)).status == "blocked"
    for number in ("FC-MEXC-7KQ2", "FC-HACK-9XMD", "FC-5UEX-2345", "fc-2345-e7hw"):
        assert lint(f"Your tracking number is {number}.", LintContext(learned=False)).status == "clean", number


def test_addresses_of_other_chains_and_pieces_after_an_ellipsis_or_a_wallet_block():
    alone = LintContext(learned=False)
    for text in ("sent from TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "from 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
                 "from 1LQoWist8KkaUXSPKZHNvEyfrEkPHzSsCd", "from LcHKx6CHDUBmLnq1gK3nMWpQJjV7hQhKSq",
                 "from 7EcDhSYGxXyscszYEp35KHN8vvw3svAuLKTzXwCFLtV", "it came from wallet ...29961.",
                 "the wallet ending in: 29961", "l'adresse se termine par « 96134 »", "die Adresse, die auf 96134 endet",
                 "the wallet (…29961) is the one", "0x098b71… was the sender"):
        assert lint(text, alone).status == "blocked", text


def test_amounts_dates_cards_and_links_are_not_addresses():
    alone = LintContext(learned=False)
    for text in ("We received 100CAD and 250AED on 12Feb.", "Your IBAN DE89 3704 0044 0532 0130 00 is on file.",
                 "Under § 312d BGB you may withdraw.", "Your card ending in 4821 is active.",
                 "We will write again, at the latest the review ends on 15th December.",
                 "Upload your documents at https://example.com/upload/ab12cd34ef56gh78ij90kl12mn34op",
                 "The flight was an A320; the budget is 1e6."):
        assert lint(text, alone).status == "clean", text


def test_invisible_characters_and_other_hyphens_cannot_split_a_word():
    alone = LintContext(learned=False)
    for text in ("a statement from Se\u200emenov", "Geld\uff0dwäsche", "Geldwa\u0308-sche",
                 "0x098b716b\u200f8aaf21512996dc57eb0615e2383e2f96", "Se\u2066me\u2069nov"):
        assert lint(text, alone).status == "blocked", ascii(text)


def test_the_signal_leaves_very_short_texts_to_the_rules():
    for text in ("Ok", "Hi", "Noted.", "ok thanks", "", "   "):
        assert lint(text, LintContext()).status == "clean", text


def test_sanctions_wording_warns_except_in_the_sanctions_notice():
    text = "Your deposit is blocked under U.S. sanctions regulations administered by OFAC."
    assert lint(text, HOLD).status == "warn"
    assert lint(text, LintContext(learned=False, evidence=EVIDENCE, template_id="sanctions_block")).status == "clean"


def test_a_date_other_than_the_placeholders_and_free_text_need_approval():
    dates = LintContext(learned=False, evidence=EVIDENCE, allowed_dates=("2 December 2026",))
    assert found("We will decide on 4 December 2026.", dates) == [("statutory_date", "warn", "4 December 2026")]
    assert found("We will write again by 2 December 2026.", dates) == []
    for other in ("le 1er décembre 2026", "el 24 de diciembre de 2026", "on 2026-12-24", "December 24, 2026"):
        assert lint(other, dates).status == "warn", other
    approved = ("Your deposit is temporarily restricted while we complete a review. We will write again soon.",)
    close = LintContext(learned=False, approved_texts=approved)
    assert lint("Your deposit is temporarily restricted while we complete our review. We will write again soon.",
                close).status == "clean"
    assert lint("Hello! Nothing new yet, hang in there and have a lovely weekend.", close).status == "warn"


LEAKS = ["we filed a SAR", "money laundering", "the police", "an investigation", "stolen funds",
         "7 working days", "we have not reported you", "your documents are forged", "Lazarus"]
SAFE_WORDS = ["your", "deposit", "review", "thank", "you", "patience", "tracking", "number", "update", "funds",
              "account", "please", "send", "statement", "exchange", "December", "restricted", "temporarily", "we"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(SAFE_WORDS), max_size=25), st.sampled_from(LEAKS), st.integers(0, 25),
       st.sampled_from([str.lower, str.upper, str.title, lambda s: s]))
def test_a_leak_anywhere_in_any_case_is_blocked(words, leak, place, case):
    place = min(place, len(words))
    text = " ".join(words[:place] + [case(leak)] + words[place:]) + "."
    assert lint(text, HOLD).status == "blocked"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(SAFE_WORDS), min_size=1, max_size=20), st.lists(st.sampled_from(SAFE_WORDS), min_size=1, max_size=20))
def test_adding_text_never_removes_a_block(before, after):
    blocked = " ".join(before) + " we filed a SAR"
    assert lint(blocked, HOLD).status == "blocked"
    assert lint(blocked + ". " + " ".join(after), HOLD).status == "blocked"
