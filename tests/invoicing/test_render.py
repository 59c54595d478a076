"""Rendering needs no database: the same stored document gives the same bytes every time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from computeport.invoicing.render import document_csv, document_html, document_pdf
from computeport.models.invoicing import BillingDocument, DocumentKind, DocumentLine


def _doc() -> BillingDocument:
    doc = BillingDocument(
        id=uuid.UUID(int=1),
        number="CN-2026-10-0001",
        kind=DocumentKind.CREDIT_NOTE,
        period="2026-10",
        sequence=1,
        party_key="x",
        organisation_id=uuid.UUID(int=2),
        party_name="數碼港人工智能實驗室 <Cyberport AI Lab>",
        issued_at=datetime(2026, 12, 1, tzinfo=UTC),
        due_at=datetime(2026, 12, 31, tzinfo=UTC),
        currency="HKD",
        gpu_seconds=-3600,
        list_minor=-2800,
        subsidy_minor=-1960,
        due_minor=-840,
        charges_through=10,
        sha256="",
    )
    doc.lines = [
        DocumentLine(
            position=1,
            award_reference="AISS-2026-0001-A",
            accelerator_type="h800",
            jobs=0,
            gpu_seconds=-3600,
            list_minor=-2800,
            subsidy_minor=-1960,
            due_minor=-840,
            credited_minor=0,
        )
    ]
    return doc


def test_csv_shows_negative_amounts_of_a_credit_note() -> None:
    text = document_csv(_doc())
    assert "kind,credit_note\n" in text
    assert "AISS-2026-0001-A,h800,0,-1.0000,-28.00,-19.60,-8.40,0.00\n" in text


def test_html_escapes_names_and_shows_chinese() -> None:
    html = document_html(_doc())
    assert "&lt;Cyberport AI Lab&gt;" in html
    assert "數碼港人工智能實驗室" in html
    assert "Noto Sans CJK TC" in html
    assert "-HK$8.40" in html


@pytest.mark.slow
def test_pdf_is_deterministic() -> None:
    first = document_pdf(_doc())
    assert first.startswith(b"%PDF")
    assert document_pdf(_doc()) == first
    assert b"CreationDate" not in first
