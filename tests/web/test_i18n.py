"""Both languages, complete: every message the portal shows has a zh-Hant translation."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from computeport.backends import JobState, NodeState
from computeport.identity.subject import Subject
from computeport.models.application import ApplicationStatus, WorkloadKind
from computeport.models.award import AwardStatus
from computeport.models.identity import OrganisationCategory, Role
from computeport.models.invoicing import DocumentKind
from computeport.models.review import AssignmentStatus
from computeport.web import catalogue
from computeport.web.i18n import negotiate, normalise, translator
from computeport.web.routes.applicant.applications import SECTORS
from computeport.web.routes.home import DESCRIPTIONS
from computeport.web.templating import navigation
from computeport.web.viewer import Viewer
from computeport.web.views.rate_card import KIND_LABELS, UNIT_LABELS
from computeport.web.views.reasons import REASON_LABELS
from computeport.web.views.reports import DIMENSIONS
from computeport.web.views.scheme import FUNNEL

WEB = Path(catalogue.__file__).parent
MESSAGE = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
LITERAL_TITLES = re.compile(r'"(Page not found|Not allowed|Something went wrong)"')


def used_messages() -> set[str]:
    found: set[str] = set()
    for path in [*WEB.rglob("*.html"), *WEB.rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        for match in MESSAGE.finditer(text):
            found.add(match.group(1) if match.group(1) is not None else match.group(2))
        found.update(LITERAL_TITLES.findall(text))
    found.update(DESCRIPTIONS.values())
    found.update(label for label, _status in FUNNEL)
    found.update(item.label for item in navigation(_everyone(), "/orgs/x"))
    found.update(r.value for r in Role)
    found.update(s.value for s in ApplicationStatus)
    found.update(s.value for s in AwardStatus)
    found.update(c.value for c in OrganisationCategory)
    found.update(REASON_LABELS.values())
    found.update(s.value for s in NodeState)
    found.update(s.value for s in AssignmentStatus)
    found.update(w.value for w in WorkloadKind)
    found.update(SECTORS)
    found.update(DIMENSIONS.values())
    found.update(s.value.lower() for s in JobState)
    found.update(k.value for k in DocumentKind)
    found.update(KIND_LABELS.values())
    found.update(UNIT_LABELS.values())
    return found


def _everyone() -> Viewer:
    """A viewer holding every role, so that every navigation item is listed."""
    org = uuid.uuid4()
    staff = frozenset({Role.OPERATOR, Role.SCHEME_OFFICER, Role.REVIEWER, Role.FUNDER})
    subject = Subject(uuid.uuid4(), "a@b.c", staff, {org: frozenset({Role.ORG_ADMIN})})
    return Viewer(subject, "Everyone", "en")


def test_every_message_has_a_zh_hant_translation() -> None:
    missing = sorted(m for m in used_messages() if m not in catalogue.ZH_HANT)
    assert missing == []


def test_translations_keep_their_placeholders() -> None:
    placeholder = re.compile(r"\{(\w+)\}")
    for english, chinese in catalogue.ZH_HANT.items():
        assert set(placeholder.findall(english)) == set(placeholder.findall(chinese)), english


def test_codes_read_as_words_in_english() -> None:
    _ = translator("en")
    assert _("public_sector") == "Public sector"
    assert _("under_review") == "Under review"
    assert _("rd_centre") == "R&D centre"
    assert _("Not a code: keep it") == "Not a code: keep it"
    assert translator("zh-Hant")("public_sector") == "公營部門"


def test_translator_fills_placeholders_in_both_languages() -> None:
    assert translator("en")("Welcome, {name}", name="Ada") == "Welcome, Ada"
    assert translator("zh-Hant")("Welcome, {name}", name="Ada") == "歡迎，Ada"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-HK,zh;q=0.9,en;q=0.8", "zh-Hant"),
        ("en-GB,zh-HK;q=0.5", "en"),
        ("zh-CN", "en"),
        ("fr-FR, zh-TW;q=0.3", "zh-Hant"),
        ("", "en"),
        ("garbage;q=x", "en"),
    ],
)
def test_browser_language_negotiation(header: str, expected: str) -> None:
    assert negotiate(header) == expected


def test_stored_locales_normalise() -> None:
    assert normalise("zh_HK") == "zh-Hant"
    assert normalise("zh-Hans") == "en"
    assert normalise(None) == "en"


def test_the_packaged_catalogue_parses_with_babel() -> None:
    text = (WEB / catalogue.PO_FILE).read_text(encoding="utf-8")
    assert catalogue.parse_catalogue(text) == catalogue.ZH_HANT
    assert len(catalogue.ZH_HANT) > 400


HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'


def test_catalogue_refuses_a_repeated_msgid() -> None:
    text = HEADER + 'msgid "Home"\nmsgstr "主頁"\n\nmsgid "Jobs"\nmsgstr "作業"\n\n'
    text += 'msgid "Home"\nmsgstr "首頁"\n'
    with pytest.raises(catalogue.CatalogueError, match=r"t\.po:11: duplicate msgid 'Home'"):
        catalogue.parse_catalogue(text, "t.po")


def test_catalogue_refuses_what_the_portal_cannot_use() -> None:
    with pytest.raises(catalogue.CatalogueError, match=r"t\.po: Unknown"):
        catalogue.parse_catalogue(HEADER + 'msgid "Home"\nmsgstr "主頁"\ngarbage\n', "t.po")
    with pytest.raises(catalogue.CatalogueError, match="context"):
        catalogue.parse_catalogue(HEADER + 'msgctxt "nav"\nmsgid "Home"\nmsgstr "主頁"\n')


def test_fuzzy_and_empty_translations_are_left_out() -> None:
    text = HEADER + '#, fuzzy\nmsgid "Home"\nmsgstr "主頁"\n\nmsgid "Jobs"\nmsgstr ""\n\n'
    text += 'msgid "Scheme"\nmsgstr "資助計劃"\n'
    assert catalogue.parse_catalogue(text) == {"Scheme": "資助計劃"}
