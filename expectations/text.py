"""Text suite: a description to learn from, free of broken-tooling leftovers.

Template tokens and HTML remove a ticket from the usable set; quoted reply chains and
signatures are reported (they can be stripped mechanically) but remove nothing.
"""

from __future__ import annotations

from expectations.checks import Check, no_regex, not_null
from ticket_audit.config import AuditConfig

SUITE = "text"
CRITERION = "text_clean"


def checks(cfg: AuditConfig) -> list[Check]:
    q = cfg.quality
    out = [
        not_null(
            SUITE,
            "description_present",
            "description",
            "Every ticket has a non-empty description.",
            CRITERION,
        )
    ]
    for column in ("description", "subject"):
        out.append(
            no_regex(
                SUITE,
                f"{column}_no_template_token",
                column,
                q.template_token_patterns,
                f"The {column} holds no unfilled template token such as {{name}}.",
                CRITERION,
            )
        )
        out.append(
            no_regex(
                SUITE,
                f"{column}_no_html",
                column,
                q.html_patterns,
                f"The {column} holds no HTML tags or entities.",
                CRITERION,
            )
        )
    out.append(
        no_regex(
            SUITE,
            "description_no_quoted_reply",
            "description",
            q.quoted_reply_patterns,
            "The description holds no quoted earlier message.",
            None,
        )
    )
    out.append(
        no_regex(
            SUITE,
            "description_no_signature",
            "description",
            q.signature_patterns,
            "The description holds no e-mail signature block.",
            None,
        )
    )
    return out
