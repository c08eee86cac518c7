"""The approved templates: complete in four languages, strict placeholders, clean, offered by state."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cases.errors import InvalidRequest
from cases.replies.linter import LintContext, lint
from cases.replies.templates import CHANNELS, FOLDER, LOCALES, PLACEHOLDERS, Catalog, catalog

VALUES = {"customer_name": "Ada Lovelace", "tracking_number": "FC-7KQ2-9XMD", "deposit_amount": "12,345.678901",
          "deposit_asset": "USDT", "deposit_date": "3 November 2026", "next_update_date": "2 December 2026",
          "support_contact": "support@example.com", "survey_link": "https://support.example.com/survey/Zq3x-9"}


def test_every_template_exists_in_every_language_and_channel_and_lints_clean():
    shipped = catalog()
    assert len(shipped.infos) == 11
    for template_id, info in shipped.infos.items():
        for locale in LOCALES:
            for channel in CHANNELS:
                rendered = shipped.render(template_id, locale, channel, values=VALUES)
                assert "FC-7KQ2-9XMD" in rendered.body or template_id == "ai_disclosure"
                assert ("survey/Zq3x-9" in rendered.body) == (template_id == "satisfaction_survey")
                assert (rendered.subject is not None) == (channel == "email")
                for text in filter(None, (rendered.subject, rendered.body)):
                    verdict = lint(text, LintContext(locale=locale, template_id=template_id, learned=False))
                    assert verdict.status == "clean", (template_id, locale, channel, verdict.findings)


def test_only_the_sanctions_notice_speaks_of_sanctions():
    shipped = catalog()
    for template_id in shipped.infos:
        body = shipped.render(template_id, "en", "email", values=VALUES).body
        assert ("OFAC" in body) == (template_id == "sanctions_block")
        verdict = lint(body, LintContext(locale="en"))
        assert (verdict.status == "warn") == (template_id == "sanctions_block")


def test_rendering_refuses_other_variables_and_needs_every_placeholder():
    shipped = catalog()
    with pytest.raises(InvalidRequest, match="may use only"):
        shipped.render("released", "en", "email", values={**VALUES, "flagged_address": "0xabc"})
    partial = {k: v for k, v in VALUES.items() if k != "next_update_date"}
    with pytest.raises(InvalidRequest, match="needs a value"):
        shipped.render("status_update", "en", "chat", values=partial)
    assert "next_update_date" not in shipped.placeholders("released", "it", "email")


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    shutil.copytree(FOLDER, folder)
    return folder


@pytest.mark.parametrize("text, problem", [
    ("{{ evidence }}", "'evidence' is not an allowed placeholder"),
    ("{{ customer_name | upper }}", "'filter' is not an allowed placeholder"),
    ("{{ customer_name.__class__ }}", "'getattr' is not an allowed placeholder"),
    ("{% if customer_name %}x{% endif %}", "not tags"),
    ("{{ customer_name", "not a valid template"),
])
def test_a_template_with_anything_but_plain_placeholders_is_rejected(tmp_path, text, problem):
    folder = _copy(tmp_path)
    path = folder / "fr" / "released.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("{{ customer_name }}", text, 1), encoding="utf-8")
    with pytest.raises(InvalidRequest, match=problem):
        Catalog(folder)


def test_a_missing_language_is_rejected(tmp_path):
    folder = _copy(tmp_path)
    (folder / "es" / "complaints.toml").unlink()
    with pytest.raises(InvalidRequest, match="es/complaints.toml: missing"):
        Catalog(folder)


def test_templates_are_offered_by_what_the_customer_may_know():
    shipped = catalog()
    every = set(PLACEHOLDERS)

    def ids(status, sanctions=False, available=every):
        return {info.id for info in shipped.offered(status, sanctions, available)}

    assert ids("under_review") == {"acknowledgement", "under_review", "status_update", "escalation_to_person",
                                   "ai_disclosure", "complaints"}
    assert "source_of_funds_request" in ids("awaiting_your_information")
    assert ids("released") == {"acknowledgement", "released", "escalation_to_person", "ai_disclosure", "complaints"}
    assert "account_decision" in ids("closed") and "sanctions_block" not in ids("closed")
    assert "sanctions_block" in ids("closed", sanctions=True)
    assert "status_update" not in ids("under_review", available=every - {"next_update_date"})
