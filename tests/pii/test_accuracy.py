"""Detection accuracy against labelled texts, and against Presidio's default set-up.

Floors sit a little under the figures in docs/pii.md (same model, same data, so the numbers
are deterministic; the margin absorbs a model patch release). A recognizer change that loses
recall fails here before it reaches a compliance report.
"""

from __future__ import annotations

import logging

import pytest

from ticket_audit.entity_types import HIGH_RISK
from ticket_audit.generator import GeneratorSpec, generate_history
from ticket_audit.pii import evaluate as ev
from ticket_audit.pii.analyzer import build_default_analyzer
from ticket_audit.pii.scan import Scanner

SYNTH_RECALL_FLOORS = {
    "CREDIT_CARD": 0.98,
    "EMAIL_ADDRESS": 0.98,
    "IBAN_CODE": 0.95,
    "IP_ADDRESS": 0.95,
    "LOCATION": 0.55,
    "PERSON": 0.63,
    "PHONE_NUMBER": 0.85,
    "STREET_ADDRESS": 0.58,
    "US_SSN": 0.95,
}
# Overall precision 0.87 (LOCATION 0.87 with places inside labelled addresses counted as
# presidio-research counts them, evaluate.SAME_REGION; 0.63 type by type).
SYNTH_PRECISION_FLOOR, SYNTH_F2_FLOOR = 0.80, 0.67
GENERATED_RECALL_FLOOR = 0.98  # every planted type
GENERATED_F2_FLOOR = 0.80


@pytest.fixture(scope="module")
def default_analyzer(pii_config):
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    return build_default_analyzer(pii_config.spacy_model)


def _compare(examples, scanner: Scanner, default_analyzer):
    texts = [e.text for e in examples]
    ours = ev.score(examples, ev.predict_scanner(scanner, texts))
    default = ev.score(examples, ev.predict_presidio(default_analyzer, texts))
    return ours, default


@pytest.fixture(scope="module")
def synth_predictions(shared_data, scanner: Scanner, default_analyzer):
    # Our allow-list is the generated company's; the public set has nothing of it.
    plain = Scanner(scanner.config.model_copy(update={"allow_list": []}), scanner.analyzer)
    examples = ev.load_synth(shared_data / ev.SYNTH_RELATIVE)
    texts = [e.text for e in examples]
    return (
        examples,
        ev.predict_scanner(plain, texts),
        ev.predict_presidio(default_analyzer, texts),
    )


@pytest.fixture(scope="module")
def synth(synth_predictions):
    examples, ours, default = synth_predictions
    return ev.score(examples, ours), ev.score(examples, default)


@pytest.fixture(scope="module")
def generated(tmp_path_factory, scanner: Scanner, default_analyzer):
    history = generate_history(GeneratorSpec(tickets=300, seed=41), tmp_path_factory.mktemp("acc"))
    return _compare(ev.load_generated(history.directory), scanner, default_analyzer)


def test_synth_set_recall_floors(synth) -> None:
    ours, _ = synth
    low = {
        t: round(ours[t].recall, 3)
        for t, floor in SYNTH_RECALL_FLOORS.items()
        if ours[t].recall < floor
    }
    assert not low, f"recall under the floor: {low}"
    assert ours["ALL"].precision >= SYNTH_PRECISION_FLOOR
    assert ours["ALL"].f_beta(2) >= SYNTH_F2_FLOOR


def test_synth_set_beats_default_presidio(synth) -> None:
    ours, default = synth
    for t in HIGH_RISK & set(ours):
        assert ours[t].recall >= default[t].recall, (t, ours[t].recall, default[t].recall)
    # Every type both detect (issue 19's bar), and precision of at least 0.60 on each.
    both = {t for t in ours if t != "ALL" and default.get(t) and default[t].predicted}
    assert {"PERSON", "LOCATION", "PHONE_NUMBER"} <= both
    for t in both:
        assert ours[t].recall >= default[t].recall, (t, ours[t].recall, default[t].recall)
        assert ours[t].precision >= 0.60, (t, ours[t].as_dict())
    assert ours["LOCATION"].precision >= 0.70  # the margin: 0.81 measured
    assert ours["ALL"].precision >= 0.60
    assert ours["ALL"].f_beta(2) > default["ALL"].f_beta(2)
    assert ours["ALL"].recall > default["ALL"].recall


def test_synth_set_places_scored_type_by_type(synth_predictions) -> None:
    """Issue 19's bar for LOCATION when each type is scored alone (no evaluate.SAME_REGION):
    the owners may score strictly. Measured 0.630 precision, 0.608 recall (default
    0.550 / 0.445)."""
    examples, ours_pred, default_pred = synth_predictions
    ours = ev.score(examples, ours_pred, strict=True)["LOCATION"]
    default = ev.score(examples, default_pred, strict=True)["LOCATION"]
    assert ours.precision >= 0.60, ours.as_dict()
    assert ours.recall >= default.recall, (ours.as_dict(), default.as_dict())


def test_generated_truth_floors_and_default(generated) -> None:
    ours, default = generated
    planted = [t for t in ours if t != "ALL"]
    assert len(planted) >= 12  # the generator plants every supported kind
    low = {
        t: round(ours[t].recall, 3)
        for t in planted
        if t != "PERSON" and ours[t].recall < GENERATED_RECALL_FLOOR
    }
    assert not low, f"recall under the floor: {low}"
    assert ours["PERSON"].recall >= 0.9
    for t in HIGH_RISK & set(ours):
        assert ours[t].recall >= default[t].recall
    assert ours["ALL"].f_beta(2) >= GENERATED_F2_FLOOR
    assert ours["ALL"].f_beta(2) > default["ALL"].f_beta(2)


def test_matching_rule() -> None:
    gold = [("PERSON", 0, 10), ("STREET_ADDRESS", 20, 30), ("STREET_ADDRESS", 31, 40)]
    pred = [("PERSON", 0, 4), ("STREET_ADDRESS", 20, 40), ("PERSON", 50, 60), ("DATE_TIME", 0, 9)]
    s = ev.score([ev.Example("x", "", gold)], [pred], types=["PERSON", "STREET_ADDRESS"])
    # "PERSON 0-4" covers 40% of the name: not found, yet wholly inside it: correct.
    assert (s["PERSON"].found, s["PERSON"].correct, s["PERSON"].predicted) == (0, 1, 2)
    # One address prediction over two labelled fragments finds both.
    assert (s["STREET_ADDRESS"].found, s["STREET_ADDRESS"].correct) == (2, 1)
    assert s["ALL"].support == 3 and s["ALL"].predicted == 3


@pytest.fixture(scope="module")
def multilingual():
    return ev.load_labelled_jsonl(ev.LABELLED_DIR / "multilingual_tickets.jsonl")


def test_multilingual_tickets(multilingual, pii_config) -> None:
    """Written here (not held out): every labelled value found, nothing else, per language."""
    config = pii_config.model_copy(update={"allow_list": []})
    tables = ev.compare_by_language(multilingual, config)
    assert {"de", "en", "es", "fr", "pt"} <= set(tables)
    for lang, rows in tables.items():
        total = next(r for r in rows if r["entity_type"] == "ALL")["ours"]
        assert total["recall"] >= 0.95 and total["precision"] >= 0.95, (lang, total)


def test_masked_exports_are_quiet(multilingual, pii_config) -> None:
    """Texts of masked exports without PII: at most 5 findings per 100 texts, and never a
    high-risk finding on a placeholder ("password: ph_user")."""
    masked = [e for e in multilingual if not e.spans]
    assert len(masked) >= 15
    noise = ev.masked_noise(masked, pii_config.model_copy(update={"allow_list": []}))
    assert noise["ours"]["unlabelled_findings_per_100_texts"] <= 5, noise
    assert noise["ours"][ev.HIGH_RISK_ON_MASKED] == 0
    # Presidio's default set-up on the same texts: the bar the issue measured against.
    assert noise["default"]["unlabelled_findings_per_100_texts"] > 50


def test_masked_multilingual_export_written_by_nobody_here(pii_config) -> None:
    """Issue 20's sample of a public multilingual helpdesk export (names masked as <name>,
    en/de/fr/es/pt): its subjects, bodies and answers hold greetings, sign-offs, product
    names and numbered instructions, and no personal data but the placeholders."""
    import csv
    from pathlib import Path

    path = Path(__file__).parents[1] / "data" / "multilang_tickets" / "tickets.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    texts = [(r[k], r["language"]) for r in rows for k in ("subject", "body", "answer") if r.get(k)]
    examples = [ev.Example(str(i), t, [], lang) for i, (t, lang) in enumerate(texts)]
    assert len(examples) >= 300
    assert [(e.text, e.language) for e in ev.load_masked_export()] == texts
    config = pii_config.model_copy(update={"allow_list": []})
    both = ev.predict_both(examples, config)
    noise = ev.masked_noise(examples, config, both)
    assert noise["ours"]["unlabelled_findings_per_100_texts"] <= 5, noise
    assert noise["ours"][ev.HIGH_RISK_ON_MASKED] == 0
    # And in each language of the export (French was 6.0 before support words were no names).
    for lang in {e.language for e in examples}:
        idx = [i for i, e in enumerate(examples) if e.language == lang]
        part = ([both[0][i] for i in idx], [both[1][i] for i in idx])
        noise = ev.masked_noise([examples[i] for i in idx], config, part)
        assert noise["ours"]["unlabelled_findings_per_100_texts"] <= 5, (lang, noise)


def test_public_varied_formats_set_beats_default_presidio(
    scanner: Scanner, default_analyzer
) -> None:
    """Nannigalaxy/PII-synthetic_dataset (tests/data/pii_public, MIT, not written here):
    issue 19's bar, recall at or above Presidio's default for every type both detect and
    precision at least 0.60 for each type we report."""
    plain = Scanner(scanner.config.model_copy(update={"allow_list": []}), scanner.analyzer)
    ours, default = _compare(ev.load_nano(), plain, default_analyzer)
    both = {t for t in ours if t != "ALL" and default.get(t) and default[t].predicted}
    assert {"PERSON", "EMAIL_ADDRESS", "US_SSN", "PHONE_NUMBER"} <= both
    for t in both:
        assert ours[t].recall >= default[t].recall, (t, ours[t].recall, default[t].recall)
    for t, sc in ours.items():
        if t != "ALL" and sc.predicted:
            assert sc.precision >= 0.60, (t, sc.as_dict())
    assert ours["PASSWORD"].recall >= 0.9
