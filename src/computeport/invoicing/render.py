"""Rendering an issued document as CSV, HTML (Jinja2) and PDF (WeasyPrint).

Deterministic by construction: everything comes from the stored document and its lines, in
their stored order; no clock is read; the PDF carries no creation date.  Rendering the same
document twice gives the same bytes (tested), which is what "re-running a closed period
reproduces the same documents" means.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, select_autoescape

from computeport.kit.money import Money
from computeport.kit.units import gpu_hours
from computeport.models.invoicing import BillingDocument, DocumentKind, DocumentLine
from computeport.pricing.announce import amount_text

_ENV = Environment(
    loader=PackageLoader("computeport.invoicing", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    keep_trailing_newline=True,
)

TITLES = {
    DocumentKind.INVOICE: "Invoice — co-payment for subsidised compute",
    DocumentKind.CREDIT_NOTE: "Credit note",
    DocumentKind.SUBSIDY_STATEMENT: "Subsidy statement",
}


@dataclass(frozen=True)
class _Row:
    award: str
    accelerator: str
    jobs: int
    gpu_hours: str
    list: str
    subsidy: str
    due: str
    credited: str
    price: str = ""
    """The rate card's version that rated the line: its list price per GPU-hour…"""
    price_from: str = ""
    """…and the instant it took effect, which with the line's type names the version."""
    price_version: str = ""
    where: str = ""
    """A per-site (or per-cluster) price's site and cluster; empty for the centre's price."""
    site: str = ""
    """The site whose clusters ran the line's jobs (a line per site and type)."""


def _price(ln: DocumentLine) -> tuple[str, str, str]:
    """(price, start, version id) of a line rated by a rate-card version, else blanks.

    The CSV carries price and start, not the id: (type, start) names the version as surely,
    and the same books rated on two databases give byte-identical documents.
    """
    if ln.price_version_id is None:
        return "", "", ""
    price = amount_text(ln.unit_price) if ln.unit_price is not None else ""
    start = ln.price_from.isoformat().replace("+00:00", "Z") if ln.price_from else ""
    return price, start, str(ln.price_version_id)


def _where(ln: DocumentLine) -> str:
    """Where the line's price applies, when it is not the whole centre's: ``sandy-ridge``."""
    version = ln.price_version if ln.price_version_id is not None else None
    if version is None:
        return ""
    return " / ".join(x for x in (version.site, version.cluster) if x)


def scoped(doc: BillingDocument) -> bool:
    """Whether any line was rated by a site's or cluster's price (a document without one keeps
    the layout it had before prices per site, so its stored hash still reproduces)."""
    return any(_where(ln) for ln in doc.lines)


def sited(doc: BillingDocument) -> bool:
    """Whether any line names its site (documents of a centre with no inventory loaded, and
    those issued before sites, keep their layout, so their stored hashes reproduce)."""
    return any(ln.site for ln in doc.lines)


def priced(doc: BillingDocument) -> bool:
    """Whether any line names a price version (documents issued before the rate card do not,
    and keep their layout, so re-rendering them reproduces their stored hash)."""
    return any(ln.price_version_id is not None for ln in doc.lines)


def _amount(minor: int) -> str:
    """Plain major units with two decimals (CSV and tables): ``-1234.50``."""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d}"


def _rows(doc: BillingDocument, fmt: object = _amount) -> list[_Row]:
    assert callable(fmt)
    return [
        _Row(
            award=ln.award_reference,
            accelerator=ln.accelerator_type,
            jobs=ln.jobs,
            gpu_hours=str(gpu_hours(ln.gpu_seconds)),
            list=fmt(ln.list_minor),
            subsidy=fmt(ln.subsidy_minor),
            due=fmt(ln.due_minor),
            credited=fmt(ln.credited_minor),
            price=_price(ln)[0],
            price_from=_price(ln)[1],
            price_version=_price(ln)[2],
            where=_where(ln),
            site=ln.site or "",
        )
        for ln in doc.lines
    ]


def document_csv(doc: BillingDocument) -> str:
    """The document as CSV: a header block, then one row per line and a total row."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["number", doc.number])
    w.writerow(["kind", doc.kind.value if hasattr(doc.kind, "value") else doc.kind])
    w.writerow(["party", doc.party_name])
    w.writerow(["period", doc.period])
    w.writerow(["sequence", doc.sequence])
    w.writerow(["issued", doc.issued_at.date().isoformat()])
    w.writerow(["due", doc.due_at.date().isoformat()])
    w.writerow(["currency", doc.currency])
    w.writerow([])
    versions = priced(doc)
    sites = scoped(doc)
    at = sited(doc)
    header = ["award", *(["site"] if at else []), "accelerator", "jobs", "gpu_hours", "list"]
    header += ["subsidy", "amount_due", "credited"]
    header += ["price_per_gpu_hour", "price_from"] if versions else []
    w.writerow([*header, *(["price_applies_to"] if sites else [])])
    for r in _rows(doc):
        row: list[object] = [r.award, *([r.site] if at else []), r.accelerator, r.jobs]
        row += [r.gpu_hours, r.list, r.subsidy, r.due, r.credited]
        row += [r.price, r.price_from] if versions else []
        w.writerow([*row, *([r.where] if sites else [])])
    w.writerow(
        [
            "total",
            *([""] if at else []),
            "",
            sum(ln.jobs for ln in doc.lines),
            str(gpu_hours(doc.gpu_seconds)),
            _amount(doc.list_minor),
            _amount(doc.subsidy_minor),
            _amount(doc.due_minor),
            _amount(sum(ln.credited_minor for ln in doc.lines)),
            *(["", ""] if versions else []),
            *([""] if sites else []),
        ]
    )
    return out.getvalue()


def document_html(doc: BillingDocument) -> str:
    """The document as a self-contained HTML page (also the source of the PDF)."""

    def money(minor: int) -> str:
        return Money(minor, doc.currency).format()

    kind = DocumentKind(doc.kind)
    return _ENV.get_template("document.html.j2").render(
        doc=doc,
        title=TITLES[kind],
        party_label="Funder statement for" if kind is DocumentKind.SUBSIDY_STATEMENT else "Bill to",
        issued=doc.issued_at.date().isoformat(),
        due_date=doc.due_at.date().isoformat(),
        show_due=kind is DocumentKind.INVOICE,
        show_price=priced(doc),
        show_site=sited(doc),
        lines=_rows(doc, money),
        total=_Row(
            award="",
            accelerator="",
            jobs=sum(ln.jobs for ln in doc.lines),
            gpu_hours=str(gpu_hours(doc.gpu_seconds)),
            list=money(doc.list_minor),
            subsidy=money(doc.subsidy_minor),
            due=money(doc.due_minor),
            credited=money(sum(ln.credited_minor for ln in doc.lines)),
        ),
    )


def document_pdf(doc: BillingDocument) -> bytes:
    """The document as PDF (WeasyPrint; font Noto Sans CJK TC for Chinese names)."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=document_html(doc)).write_pdf()
    return pdf


__all__ = ["document_csv", "document_html", "document_pdf"]
