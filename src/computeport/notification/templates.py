"""Plain-text e-mail templates, one per notification kind (Jinja2, strict about missing values).

Other domains add their kinds (burn-down, invoice, overdue…) with :func:`register_template`
at import time of their notification module; a kind without a template cannot be enqueued.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, StrictUndefined, Template

_ENV = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)  # noqa: S701 - plain-text mail, never HTML

SIGNATURE = (
    "\n--\nAI Subsidy Scheme secretariat (computeport)\nThis message was sent automatically.\n"
)


@dataclass(frozen=True)
class MailTemplate:
    """A subject line and a body, both Jinja2 templates over the same context."""

    subject: Template
    body: Template

    def render(self, context: Mapping[str, Any]) -> tuple[str, str]:
        subject = " ".join(self.subject.render(context).split())
        return subject, self.body.render(context).rstrip() + "\n" + SIGNATURE


_TEMPLATES: dict[str, MailTemplate] = {}


def register_template(kind: str, subject: str, body: str) -> None:
    """Add (or replace) the template of ``kind``."""
    _TEMPLATES[kind] = MailTemplate(_ENV.from_string(subject), _ENV.from_string(body))


def template_for(kind: str) -> MailTemplate:
    try:
        return _TEMPLATES[kind]
    except KeyError:
        raise KeyError(f"no e-mail template for notification kind {kind!r}") from None


def known_kinds() -> list[str]:
    return sorted(_TEMPLATES)


SUBMISSION_RECEIVED = "submission_received"
REVISION_REQUESTED = "revision_requested"
DECISION = "decision"
PROGRESS_REPORT_DUE = "progress_report_due"
AWARD_EXPIRING = "award_expiring"

register_template(
    SUBMISSION_RECEIVED,
    "[{{ reference }}] Application received",
    """Dear applicant,

We have received application {{ reference }}, "{{ title }}", from {{ organisation }}
on {{ submitted_at }}. It will now be screened and sent to reviewers; we will write again
when the committee has decided or if the reviewers need more information.
""",
)
register_template(
    REVISION_REQUESTED,
    "[{{ reference }}] Revision requested",
    """Dear applicant,

The reviewers of application {{ reference }}, "{{ title }}", ask you to revise it:

{{ reason }}

Please update the application in the portal and submit it again.
""",
)
register_template(
    DECISION,
    "[{{ reference }}] Committee decision: {{ outcome }}",
    """Dear applicant,

The committee has decided on application {{ reference }}, "{{ title }}": {{ outcome }}.
{% if approved %}
Award {{ award_reference }}
  Period:        {{ starts_at }} to {{ ends_at }}
  GPU-hours:     {{ lines_text }}
  Subsidy rate:  {{ subsidy_rate }} of the list price
  Subsidy cap:   {{ cap }}
  Slurm account: {{ slurm_account }}
{% if tranches > 1 %}  GPU-hours are released in {{ tranches }} tranches; later tranches
  follow accepted progress reports.
{% endif %}{% else %}
{% if reason %}Reason: {{ reason }}
{% endif %}{% endif %}""",
)
register_template(
    PROGRESS_REPORT_DUE,
    "[{{ award_reference }}] Progress report {{ sequence }} "
    "{% if overdue %}is overdue{% else %}due {{ due_at }}{% endif %}",
    """Dear applicant,

{% if overdue -%}
Progress report {{ sequence }} for award {{ award_reference }} was due on {{ due_at }} and
has not been filed or accepted yet. An overdue report holds the next tranche of GPU-hours.
{%- else -%}
Progress report {{ sequence }} for award {{ award_reference }} is due on {{ due_at }}.
{%- endif %}
Please file it in the portal: outputs (models, papers, products, jobs created) and a short
narrative of the work done.
""",
)
register_template(
    AWARD_EXPIRING,
    "[{{ award_reference }}] Award ends on {{ ends_at }}",
    """Dear applicant,

Award {{ award_reference }} ends on {{ ends_at }} ({{ days_left }} days from now). Jobs that
end after that date are outside the award. Any unused subsidy returns to the scheme; to ask
for an extension, contact the secretariat before the end date.
""",
)

__all__ = [
    "AWARD_EXPIRING",
    "DECISION",
    "PROGRESS_REPORT_DUE",
    "REVISION_REQUESTED",
    "SUBMISSION_RECEIVED",
    "MailTemplate",
    "known_kinds",
    "register_template",
    "template_for",
]
