"""Access tokens: GitHub, GitLab, Slack, JWTs, and whatever follows 'Bearer'."""

from __future__ import annotations

from ticket_audit.pii.recognizers.base import TicketPatternRecognizer

_STRIP = ".,;:)]}\"'"


class TicketAccessTokenRecognizer(TicketPatternRecognizer):
    ENTITY = "ACCESS_TOKEN"
    PATTERNS = [
        ("github token", r"(?<![\w-])gh[pousr]_[A-Za-z0-9]{36,255}(?![\w-])", 0.95),
        ("github fine-grained token", r"(?<![\w-])github_pat_[A-Za-z0-9_]{22,255}(?![\w-])", 0.95),
        ("gitlab token", r"(?<![\w-])glpat-[A-Za-z0-9_-]{20,}(?![\w-])", 0.95),
        ("slack token", r"(?<![\w-])xox[abposr]-[A-Za-z0-9-]{10,}(?![\w-])", 0.95),
        (
            "jwt",
            r"(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(?![\w-])",
            0.95,
        ),
        (
            "bearer token",
            r"(?i:\bbearer)\s+(?P<value>[A-Za-z0-9\-._~+/]{16,}=*)",
            0.85,
            ("bearer",),
        ),
        (
            "token after label",
            r"(?i:\b(?:access|auth|refresh|session|oauth|personal access|api)[ _-]?token)"
            r"(?:\s*[:=]\s*|\s+(?i:is|=)\s+|\s+)[\"']?(?P<value>[A-Za-z0-9._\-+/=]{20,512})",
            0.75,
            ("token",),
        ),
    ]
    CONTEXT = ["token", "bearer", "authorization", "auth", "oauth", "session"]
    TRIGGER_WORDS = (
        "ghp_",
        "gho_",
        "ghu_",
        "ghs_",
        "ghr_",
        "github_pat_",
        "glpat-",
        "xox",
        "eyj",
        "bearer",
        "token",
    )

    def validate_value(self, value: str) -> bool | None:
        if not any(c.isdigit() for c in value) or not any(c.isalpha() for c in value):
            return False
        return None

    def raw_matches(
        self, text: str, lowered: str | None = None
    ) -> list[tuple[int, int, float, str]]:
        out = []
        for start, end, score, name in super().raw_matches(text, lowered):
            while end > start and text[end - 1] in _STRIP:
                end -= 1
            if end - start >= 16:
                out.append((start, end, score, name))
        return out
