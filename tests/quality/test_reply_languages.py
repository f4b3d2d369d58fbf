"""Reply habits in five languages: greetings, sign-offs (words, initials, signature lines),
apologies, and paragraphs split on single new lines when a reply has no blank line."""

from __future__ import annotations

import polars as pl
import pytest

from ticket_audit.quality.variability import reply_labels, summarise

REPLIES = [
    # body, greeting, sign-off, tone
    (
        "Sehr geehrter Herr Keller,\nvielen Dank für Ihre Nachricht.\nWir prüfen das.\n"
        "Mit freundlichen Grüßen\nAnna",
        "sehr geehrter {name}",
        "regards",
        "neutral",
    ),
    ("Hallo Kunde,\n\nleider ist das nicht möglich.\n\nViele Grüße", "hallo kunde", "regards",
     "apologetic"),
    ("Cher client,\n\nNous sommes désolés du retard.\n\nCordialement,\nL'équipe", "cher client",
     "regards", "apologetic"),
    ("Bonjour Marie,\nVotre colis est parti.\nBien cordialement", "bonjour {name}", "regards",
     "neutral"),
    ("Estimado Juan:\nLo sentimos mucho por la demora.\nSaludos", "estimado {name}", "regards",
     "apologetic"),
    ("Hola,\nsu pedido ya salió.\nAtentamente,\nEl equipo", "hola", "regards", "neutral"),
    ("Prezado cliente,\nInfelizmente não foi possível.\nAtenciosamente,\nEquipe",
     "prezado cliente", "regards", "apologetic"),
    ("Olá Ana,\nseu pedido foi enviado.\nObrigado", "olá {name}", "thanks", "neutral"),
    ("@123 Sorry to hear that! Please DM us. ^AB", "none", "initials", "apologetic"),
    ("@123 Let's look into this together /CD", "none", "initials", "neutral"),
    ("Hi John,\n\nThanks for reaching out.\n\nBest regards,\nTom", "hi {name}", "regards",
     "neutral"),
    ("see https://example.com/AB", "none", "none", "neutral"),
]  # fmt: skip


@pytest.fixture(scope="module")
def labels() -> pl.DataFrame:
    n = len(REPLIES)
    frame = pl.DataFrame(
        {"body": [r[0] for r in REPLIES], "sampled": [True] * n, "category": ["x"] * n}
    )
    return reply_labels(frame)


def test_greetings_sign_offs_and_tone_in_five_languages(labels) -> None:
    got = list(zip(labels["greeting"], labels["signoff"], labels["tone"], strict=True))
    assert got == [(g, s, t) for _, g, s, t in REPLIES]


def test_single_newline_replies_have_paragraphs_without_greeting_or_sign_off(labels) -> None:
    # The greeting line and the sign-off (with its signature line) are not the body: two
    # replies that differ only there share their core.
    a, b = reply_labels(
        pl.DataFrame(
            {
                "body": [
                    "Hallo Tom,\nIhr Paket ist unterwegs.\nViele Grüße\nAnna",
                    "Guten Tag Frau Berg,\nIhr Paket ist unterwegs.\nMit freundlichen Grüßen",
                ],
                "sampled": [False, False],
                "category": ["x", "x"],
            }
        )
    )["core_hash"]
    assert a == b


def test_no_replies_has_no_score() -> None:
    empty = reply_labels(
        pl.DataFrame(
            {"body": [], "sampled": [], "category": []},
            schema={"body": pl.Utf8, "sampled": pl.Boolean, "category": pl.Utf8},
        )
    )
    out = summarise(empty, 0.01, 2)
    overall = out.filter(pl.col("category") == "(all)")
    assert overall.height == 0 or overall["replies"][0] == 0
