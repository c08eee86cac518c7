"""Folding text for matching, and the map back to the original characters."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cases.replies.folding import fold


def test_case_accents_punctuation_and_digits_for_letters_fold_away():
    assert fold("L'ENQUÊTE, investigat1on; l4undering!").text == "l enquete investigation laundering"
    assert fold("money-laundering").text == "money laundering"
    assert fold("ransom\u00adware and inves\u200btigation").text == "ransomware and investigation"


def test_numbers_stay_numbers_and_a_closing_mark_is_punctuation():
    assert fold("within 7 working days").text == "within 7 working days"
    assert fold("Tornado-Cash!").text == "tornado cash"
    assert fold("$uspicious").text == "suspicious"


def test_single_letters_join_into_a_word_and_map_back_to_the_original():
    source = "we sent a S.A.R. today"
    joined = fold(source).join_letters()
    assert joined.text == "we sent asar today"
    skipped = fold(source).join_letters(skip_first=True)
    assert skipped.text == "we sent a sar today"
    start = skipped.text.index("sar")
    begin, end = skipped.span(start, start + 3)
    assert source[begin:end] == "S.A.R"


@given(st.text(max_size=60))
def test_every_folded_character_comes_from_a_character_of_the_source(source):
    for folded in (fold(source), fold(source).join_letters(), fold(source).join_letters(skip_first=True)):
        assert len(folded.text) == len(folded.origin)
        assert all(0 <= i < len(source) for i in folded.origin)
        assert list(folded.origin) == sorted(folded.origin)
