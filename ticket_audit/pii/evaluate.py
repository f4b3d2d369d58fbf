"""Detection accuracy against labelled texts: precision, recall and F2 per entity type.

Span matching rule (character coverage, same entity type):
- a labelled span counts as found when at least half of its characters are covered by
  predictions of its type;
- a prediction counts as correct when at least half of its characters lie inside labelled
  spans of its type.
Coverage, not exact offsets, because labelled sets and detectors cut spans differently (a
postal block labelled as three spans and found as one is found; "Dr. Jane Doe" against
"Jane Doe" is found), while a prediction that mostly covers unlabelled text stays wrong.

Only entity types the layer reports and the set labels are scored. Predictions of other types (Presidio's
LOCATION, DATE_TIME, ...) are ignored; labels of other types (ORGANIZATION, ...) are not
targets, so a PERSON prediction on an organisation counts as a false positive.

F2 weighs recall twice as much as precision: for a redaction gate a missed card number costs
more than a placeholder too many.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ticket_audit.entity_types import SUPPORTED_ENTITIES

Span = tuple[str, int, int]  # (entity_type, start, end)
SYNTH_RELATIVE = Path("presidio_synth_pii") / "synth_dataset_v2.json"


# Labels of public sets that mean one of our types (presidio-research labels places GPE).
LABEL_ALIASES = {"GPE": "LOCATION", "LOC": "LOCATION"}
# Types that label one region at different granularity. presidio-research labels a Faker
# address (its city and country included) STREET_ADDRESS and a separate city or country GPE,
# so the same "Tallinn, Estonia" after a street is one or the other by template, and its own
# evaluator scores both as LOCATION (presidio_analyzer_wrapper.presidio_entities_map). A
# prediction of one lying inside a label of the other marks labelled personal data: correct
# for precision. Recall is not shared: a LOCATION label is found by LOCATION predictions only.
SAME_REGION = {"LOCATION": ("STREET_ADDRESS",), "STREET_ADDRESS": ("LOCATION",)}
LABELLED_DIR = Path(__file__).resolve().parents[2] / "tests" / "data" / "pii"
# Placeholders of a masked export count as PII when a detector reports them.
HIGH_RISK_ON_MASKED = "high-risk findings on placeholders"


@dataclass
class Example:
    id: str
    text: str
    spans: list[Span] = field(default_factory=list)
    language: str = "en"


@dataclass
class Scores:
    support: int = 0  # labelled spans
    found: int = 0  # labelled spans found
    predicted: int = 0
    correct: int = 0  # predictions that are right

    @property
    def precision(self) -> float:
        return (
            self.correct / self.predicted if self.predicted else (1.0 if not self.support else 0.0)
        )

    @property
    def recall(self) -> float:
        return self.found / self.support if self.support else 1.0

    def f_beta(self, beta: float = 2.0) -> float:
        p, r = self.precision, self.recall
        if p == 0 and r == 0:
            return 0.0
        b2 = beta * beta
        return (1 + b2) * p * r / (b2 * p + r)

    def add(self, other: Scores) -> None:
        self.support += other.support
        self.found += other.found
        self.predicted += other.predicted
        self.correct += other.correct

    def as_dict(self) -> dict:
        return {
            "support": self.support,
            "found": self.found,
            "predicted": self.predicted,
            "correct": self.correct,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f2": round(self.f_beta(2.0), 4),
        }


def shared_data_dir() -> Path:
    return Path(os.environ.get("TICKET_AUDIT_SHARED_DATA", "/work/shared/data"))


def load_synth(path: str | Path | None = None) -> list[Example]:
    """Presidio's synthetic labelled set (presidio-research `synth_dataset_v2.json`)."""
    path = Path(path) if path else shared_data_dir() / SYNTH_RELATIVE
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [
        Example(
            id=str(i),
            text=row["full_text"],
            spans=[
                (
                    LABEL_ALIASES.get(s["entity_type"], s["entity_type"]),
                    s["start_position"],
                    s["end_position"],
                )
                for s in row["spans"]
            ],
        )
        for i, row in enumerate(rows)
    ]


def load_labelled_jsonl(path: str | Path) -> list[Example]:
    """`{"id", "language", "text", "pii": [{"type", "value"}]}` per line; each value's
    offsets are those of its occurrences in the text, in order."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        text, spans, taken = row["text"], [], set()
        for item in row["pii"]:
            start = text.find(item["value"])
            while start in taken:
                start = text.find(item["value"], start + 1)
            if start < 0:
                raise ValueError(f"{path}: {row['id']}: value of {item['type']} not in the text")
            taken.add(start)
            spans.append((item["type"], start, start + len(item["value"])))
        out.append(Example(row["id"], text, spans, row.get("language", "en")))
    return out


PUBLIC_DIR = LABELLED_DIR.parent / "pii_public"
NANO_PATH = PUBLIC_DIR / "pii_syn_nano_en.json"
# Labels of Nannigalaxy/PII-synthetic_dataset that name one of our types. The rest (ORG,
# PASSPORT, TAX_ID, DRIVER_LICENSE, ...) are not scored; a finding of ours on one of them
# is a false positive of the type we gave it.
NANO_LABELS = {
    "PERSON": "PERSON",
    "EMAIL": "EMAIL_ADDRESS",
    "PASSWORD": "PASSWORD",
    "SSN": "US_SSN",
    "PHONE": "PHONE_NUMBER",
    "IBAN": "IBAN_CODE",
    "CREDIT_CARD": "CREDIT_CARD",
    "ACCOUNT": "ACCOUNT_NUMBER",
    "ACCOUNT_NUMBER": "ACCOUNT_NUMBER",
    "ACCOUNT_NUM": "ACCOUNT_NUMBER",
    "BANK_ACCOUNT": "ACCOUNT_NUMBER",
    "BANK_ACCOUNT_NUM": "ACCOUNT_NUMBER",
}


@dataclass
class LoadNotes:
    """What a loader could not use, so a table's "labelled" column can be checked."""

    labels: int = 0
    unlocated: int = 0  # value not in the text (the set's own slips: "*SecureLogin!*")


def load_nano(path: str | Path = NANO_PATH, notes: LoadNotes | None = None) -> list[Example]:
    """Nannigalaxy/PII-synthetic_dataset (MIT): `[{text, NER: [{entity, label}]}]`, values
    without offsets. Every occurrence of a value is labelled (the set lists values, and a
    second mention of an SSN is the same SSN); the `*` and quotes the set's writer left
    around some values are stripped; a value still not in the text is counted in
    `notes.unlocated` and not scored."""
    notes = notes if notes is not None else LoadNotes()
    out = []
    for i, row in enumerate(json.loads(Path(path).read_text(encoding="utf-8"))):
        text, spans = row["text"], []
        for item in row.get("NER", []):
            value = (item.get("entity") or "").strip().strip("*'\" ")
            if value not in text:  # markdown emphasis inside: "*SSN* 900-12-3456"
                value = value.replace("*", "").strip()
            kind = item.get("label", "")
            notes.labels += 1
            if not value or value not in text:
                notes.unlocated += 1
                continue
            start = text.find(value)
            while start >= 0:
                spans.append((NANO_LABELS.get(kind, kind), start, start + len(value)))
                start = text.find(value, start + len(value))
        out.append(Example(f"nano/{i}", text, sorted(set(spans)), "en"))
    return out


MASKED_EXPORT = LABELLED_DIR.parent / "multilang_tickets" / "tickets.csv"


def load_masked_export(path: str | Path = MASKED_EXPORT) -> list[Example]:
    """Issue 20's sample of a public multilingual export (names masked as `<name>`, no
    personal data otherwise): every subject, body and answer, with the export's language."""
    import csv

    with Path(path).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [
        Example(f"{i}/{k}", r[k], [], r.get("language") or "en")
        for i, r in enumerate(rows)
        for k in ("subject", "body", "answer")
        if r.get(k)
    ]


def _read(path: Path) -> pl.DataFrame:
    if path.suffix == ".csv":
        return pl.read_csv(path, infer_schema_length=0)
    if path.suffix == ".jsonl":
        return pl.read_ndjson(path).cast(pl.Utf8)
    return pl.read_parquet(path).cast(pl.Utf8)


def load_generated(directory: str | Path) -> list[Example]:
    """Every text field of a generated history with the PII the generator planted in it."""
    directory = Path(directory)
    manifest = json.loads((directory / "manifest.json").read_text())
    files = manifest["files"]
    truth: dict[tuple[str, str], list[Span]] = defaultdict(list)
    with (directory / files["pii_truth"]).open() as fh:
        for line in fh:
            r = json.loads(line)
            truth[(r["ticket_id"], r["field"])].append((r["entity_type"], r["start"], r["end"]))
    examples = []
    tickets = _read(directory / files["tickets"])
    for tid, subject, description in tickets.select(
        "ticket_id", "subject", "description"
    ).iter_rows():
        for name, text in (("subject", subject), ("description", description)):
            examples.append(Example(f"{tid}/{name}", text or "", truth.get((tid, name), [])))
    if files.get("messages"):
        messages = _read(directory / files["messages"])
        for tid, seq, body in messages.select("ticket_id", "seq", "body").iter_rows():
            name = f"message:{int(seq)}"
            examples.append(Example(f"{tid}/{name}", body or "", truth.get((tid, name), [])))
    return examples


def _covered(start: int, end: int, others: list[tuple[int, int]]) -> bool:
    length = end - start
    if length <= 0:
        return False
    covered = 0
    for s, e in others:
        lo, hi = max(start, s), min(end, e)
        if hi > lo:
            covered += hi - lo
    return 2 * covered >= length


def score_example(
    gold: Sequence[Span], pred: Sequence[Span], types: set[str], *, strict: bool = False
) -> dict[str, Scores]:
    out: dict[str, Scores] = defaultdict(Scores)
    gold_by: dict[str, list[tuple[int, int]]] = defaultdict(list)
    pred_by: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for t, s, e in gold:
        if t in types:
            gold_by[t].append((s, e))
    for t, s, e in pred:
        if t in types:
            pred_by[t].append((s, e))
    for t, spans in gold_by.items():
        sc = out[t]
        sc.support += len(spans)
        sc.found += sum(_covered(s, e, pred_by.get(t, [])) for s, e in spans)
    for t, spans in pred_by.items():
        sc = out[t]
        sc.predicted += len(spans)
        labelled = list(gold_by.get(t, []))
        if not strict:
            for other in SAME_REGION.get(t, ()):
                labelled += gold_by.get(other, [])
        sc.correct += sum(_covered(s, e, labelled) for s, e in spans)
    return out


def labelled_types(examples: Sequence[Example]) -> list[str]:
    """The entity types a labelled set annotates and the layer reports: the scored types.

    A set that does not label dates of birth cannot say whether a detected one is right."""
    seen = {t for ex in examples for t, _, _ in ex.spans}
    return [t for t in SUPPORTED_ENTITIES if t in seen]


def score(
    examples: Sequence[Example],
    predictions: Sequence[Sequence[Span]],
    types: Sequence[str] | None = None,
    *,
    strict: bool = False,
) -> dict[str, Scores]:
    """Scores per entity type, plus "ALL" (micro-average over the types). `strict`: a
    prediction is correct only inside labels of its own type (no SAME_REGION)."""
    type_set = set(labelled_types(examples) if types is None else types)
    if "US_SSN" in type_set and "US_ITIN" not in type_set:
        # A set that labels every SSN-shaped number US_SSN (Faker's SSNs include the 9xx
        # range): our US_ITIN for one of them is the right find under its right name.
        predictions = [
            [("US_SSN" if t == "US_ITIN" else t, a, b) for t, a, b in pred] for pred in predictions
        ]
    table: dict[str, Scores] = defaultdict(Scores)
    for ex, pred in zip(examples, predictions, strict=True):
        for t, sc in score_example(ex.spans, pred, type_set, strict=strict).items():
            table[t].add(sc)
    total = Scores()
    for sc in table.values():
        total.add(sc)
    result = dict(sorted(table.items()))
    result["ALL"] = total
    return result


def predict_scanner(scanner, texts: Sequence[str]) -> list[list[Span]]:
    return [[(f.entity_type, f.start, f.end) for f in fs] for fs in scanner.scan(list(texts))]


def predict_presidio(
    analyzer,
    texts: Sequence[str],
    *,
    score_threshold: float | None = None,
    allow_list: list[str] | None = None,
    batch_size: int = 64,
) -> list[list[Span]]:
    """Predictions of a Presidio AnalyzerEngine through its BatchAnalyzerEngine."""
    from presidio_analyzer import BatchAnalyzerEngine

    kwargs: dict = {}
    if score_threshold is not None:
        kwargs["score_threshold"] = score_threshold
    if allow_list:
        kwargs["allow_list"] = allow_list
    batch = BatchAnalyzerEngine(analyzer_engine=analyzer)
    results = batch.analyze_iterator(list(texts), language="en", batch_size=batch_size, **kwargs)
    return [[(r.entity_type, r.start, r.end) for r in rs] for rs in results]


def compare_table(ours: dict[str, Scores], default: dict[str, Scores]) -> list[dict]:
    """Rows for docs and tests: one per entity type with labels or predictions, then ALL."""
    rows = []
    for t in [*sorted(k for k in set(ours) | set(default) if k != "ALL"), "ALL"]:
        o, d = ours.get(t, Scores()), default.get(t, Scores())
        if t != "ALL" and not (o.support or o.predicted or d.predicted):
            continue
        rows.append(
            {"entity_type": t, "support": o.support, "ours": o.as_dict(), "default": d.as_dict()}
        )
    return rows


def markdown_table(rows: list[dict]) -> str:
    head = (
        "| entity type | labelled | ours P | ours R | ours F2 | default P | default R | default F2 |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    lines = []
    for r in rows:
        o, d = r["ours"], r["default"]
        name = f"**{r['entity_type']}**" if r["entity_type"] == "ALL" else r["entity_type"]
        lines.append(
            f"| {name} | {r['support']} | {o['precision']:.3f} | {o['recall']:.3f} | "
            f"{o['f2']:.3f} | {d['precision']:.3f} | {d['recall']:.3f} | {d['f2']:.3f} |"
        )
    return head + "\n".join(lines) + "\n"


def compare_on(examples: Sequence[Example], config, *, strict: bool = False) -> list[dict]:
    """Our scanner against Presidio's default analyzer on the same model and texts."""
    return compare_by_language(examples, config, strict=strict)["ALL"]


def predict_both(examples: Sequence[Example], config) -> tuple[list, list]:
    """Our scanner's and Presidio's default analyzer's predictions on the same texts."""
    from ticket_audit.pii.analyzer import build_default_analyzer
    from ticket_audit.pii.scan import Scanner

    texts = [e.text for e in examples]
    return (
        predict_scanner(Scanner(config), texts),
        predict_presidio(build_default_analyzer(config.spacy_model), texts),
    )


def compare_by_language(
    examples: Sequence[Example], config, *, strict: bool = False
) -> dict[str, list[dict]]:
    """Per language of the examples (and "ALL"): our scanner against Presidio's default
    analyzer (English, as it ships) on the same model and texts, in one run."""
    ours_pred, default_pred = predict_both(examples, config)
    out = {
        "ALL": compare_table(
            score(examples, ours_pred, strict=strict), score(examples, default_pred, strict=strict)
        )
    }
    languages = sorted({e.language for e in examples})
    if len(languages) > 1:
        for lang in languages:
            idx = [i for i, e in enumerate(examples) if e.language == lang]
            sub = [examples[i] for i in idx]
            types = labelled_types(examples)
            out[lang] = compare_table(
                score(sub, [ours_pred[i] for i in idx], types, strict=strict),
                score(sub, [default_pred[i] for i in idx], types, strict=strict),
            )
    return out


def masked_noise(
    examples: Sequence[Example], config, predictions: tuple[list, list] | None = None
) -> dict[str, dict]:
    """On texts of a masked export: findings outside the labelled PII per 100 texts, and
    high-risk findings that touch a placeholder (must be 0), ours and Presidio's default
    (`predictions`: both, from `predict_both`, when already made)."""
    from ticket_audit.entity_types import HIGH_RISK
    from ticket_audit.pii.masked import MaskedPlaceholders

    masks = MaskedPlaceholders(config.masked_patterns)
    ours, default = predictions or predict_both(examples, config)
    result = {}
    for name, pred in (("ours", ours), ("default", default)):
        extra = high = 0
        for ex, spans in zip(examples, pred, strict=True):
            held = masks.find(ex.text)
            for t, a, b in spans:
                if not _covered(a, b, [(s, e) for _, s, e in ex.spans]):
                    extra += 1
                if t in HIGH_RISK and any(a < e and s < b for _, s, e in held):
                    high += 1
        result[name] = {
            "texts": len(examples),
            "unlabelled_findings_per_100_texts": round(100 * extra / max(len(examples), 1), 1),
            HIGH_RISK_ON_MASKED: high,
        }
    return result


MEASURED_PATH = Path(__file__).with_name("measured_accuracy.json")


SYNTH_NAME = "presidio-research synth_dataset_v2.json (1,500 texts, not written here)"
NANO_NAME = "Nannigalaxy/PII-synthetic_dataset (149 texts, MIT, not written here)"


def write_measured(rows: list[dict], extra: list[tuple[str, list[dict]]] = ()) -> None:
    """Recall and precision per type on the public labelled sets, for the exposure report
    (so compliance reads the miss rate where it reads the counts). Each type is measured on
    the first set that labels it: the synthetic set, then the `extra` sets in order."""
    by_entity: dict[str, dict] = {}
    for name, table in [(SYNTH_NAME, rows), *extra]:
        for r in table:
            if r["support"] and r["entity_type"] != "ALL" and r["entity_type"] not in by_entity:
                by_entity[r["entity_type"]] = {
                    "labelled": r["support"],
                    "recall": r["ours"]["recall"],
                    "precision": r["ours"]["precision"],
                    "presidio_default_recall": r["default"]["recall"],
                    "set": name,
                }
    data = {
        "set": SYNTH_NAME + "; " + "; ".join(name for name, _ in extra),
        "command": "python -m ticket_audit.pii.evaluate --tickets 300 --write",
        "by_entity": dict(sorted(by_entity.items())),
    }
    MEASURED_PATH.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def measured_accuracy() -> dict:
    """What `write_measured` stored ({} when it never ran)."""
    try:
        return json.loads(MEASURED_PATH.read_text())
    except (OSError, ValueError):
        return {}


def main(argv: list[str] | None = None) -> int:
    """python -m ticket_audit.pii.evaluate [--synth FILE] [--tickets N]: the tables of docs/pii.md."""
    import argparse
    import logging
    import tempfile

    from ticket_audit.config.pii import PiiSection
    from ticket_audit.generator import GeneratorSpec, generate_history
    from ticket_audit.generator.vocabulary import COMPANY_ALLOW_LIST

    p = argparse.ArgumentParser(prog="python -m ticket_audit.pii.evaluate")
    p.add_argument(
        "--synth", type=Path, default=None, help="presidio-research synth_dataset_v2.json"
    )
    p.add_argument("--tickets", type=int, default=2000, help="generated tickets to measure on")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--write",
        action="store_true",
        help="store the synthetic set's recall per type for the exposure report",
    )
    args = p.parse_args(argv)
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)

    print("## Presidio synthetic set (presidio-research synth_dataset_v2.json)\n")
    synth = load_synth(args.synth)
    ours_pred, default_pred = predict_both(synth, PiiSection(n_process=1))
    synth_rows = compare_table(score(synth, ours_pred), score(synth, default_pred))
    print(markdown_table(synth_rows))
    strict = compare_table(
        score(synth, ours_pred, strict=True), score(synth, default_pred, strict=True)
    )
    print(
        "Strict (a prediction is right only inside a label of its own type): "
        + ", ".join(
            f"{r['entity_type']} P ours {r['ours']['precision']:.3f} "
            f"default {r['default']['precision']:.3f}"
            for r in strict
            if r["entity_type"] in SAME_REGION
        )
        + "\n"
    )
    notes = LoadNotes()
    nano = load_nano(notes=notes)
    print(
        f"\n## {NANO_NAME}\n\n{notes.labels} labels, {notes.unlocated} of them not in their "
        "text and not scored (tests/data/pii_public/README.md)\n"
    )
    nano_rows = compare_on(nano, PiiSection(n_process=1))
    print(markdown_table(nano_rows))
    ml = load_labelled_jsonl(LABELLED_DIR / "multilingual_tickets.jsonl")
    print("\n## Multilingual ticket texts (tests/data/pii, written here), per language\n")
    for lang, rows in compare_by_language(ml, PiiSection(n_process=1)).items():
        print(f"### {lang}\n")
        print(markdown_table(rows))
    masked = [e for e in ml if not e.spans]
    print(f"\n## Masked texts without PII ({len(masked)} of the multilingual set)\n")
    for name, r in masked_noise(masked, PiiSection(n_process=1)).items():
        print(f"- {name}: {r}")
    export = load_masked_export()
    print(
        f"\n## Masked multilingual export (issue 20's sample, {len(export)} texts, written by "
        "nobody here), per language\n"
    )
    both = predict_both(export, PiiSection(n_process=1))
    for lang in ["ALL", *sorted({e.language for e in export})]:
        idx = [i for i, e in enumerate(export) if lang in ("ALL", e.language)]
        part = ([both[0][i] for i in idx], [both[1][i] for i in idx])
        noise = masked_noise([export[i] for i in idx], PiiSection(n_process=1), part)
        print(f"- {lang}: {noise}")
    if args.write:
        write_measured(synth_rows, [(NANO_NAME, nano_rows)])
    with tempfile.TemporaryDirectory() as tmp:
        generate_history(GeneratorSpec(tickets=args.tickets, seed=args.seed), tmp)
        config = PiiSection(allow_list=COMPANY_ALLOW_LIST, n_process=1)
        print(f"\n## Generated history ({args.tickets:,} tickets, seed {args.seed})\n")
        print(markdown_table(compare_on(load_generated(tmp), config)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
