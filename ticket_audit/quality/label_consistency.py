"""Label consistency without hand labels (definitions in docs/quality.md).

Five findings, all stored in `audit.label_issues` by ticket id (never text):
- implausible_label: confident learning over out-of-fold classifier probabilities says the
  text belongs to another category;
- label_conflict: the ticket is in a duplicate group whose members carry different
  categories (from `audit.duplicate_groups`);
- catch_all: the category is a configured catch-all ("Other", "General");
- rare_category: the category holds less than `rare_category_share` of the tickets;
- suggested_label: for a ticket without a usable label, the category the classifier finds
  most likely and its probability (the worklist's suggestion; not a defect by itself).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from ticket_audit.config import AuditConfig
from ticket_audit.quality.classifier import OutOfFold, confident_learning, out_of_fold
from ticket_audit.quality.tables import ensure_tables, save_stage_stats
from ticket_audit.quality.text_features import WordIds
from ticket_audit.quality.word_store import keep_fresh, read_ticket_words
from ticket_audit.store import open_store, transaction

log = logging.getLogger(__name__)
Progress = Callable[[str], None]

ISSUE_SCHEMA = {
    "source": pl.Utf8,
    "ticket_id": pl.Utf8,
    "issue": pl.Utf8,
    "given_category": pl.Utf8,
    "suggested_category": pl.Utf8,
    "given_probability": pl.Float64,
    "suggested_probability": pl.Float64,
}


@dataclass
class LabelFindings:
    issues: pl.DataFrame  # ISSUE_SCHEMA
    stats: dict = field(default_factory=dict)


def trainable_labels(tickets: pl.DataFrame, cfg: AuditConfig) -> pl.Series:
    """The category where it is a usable class for the model, else NULL. With per-team label
    sets (`taxonomy.by_team`), usable means one of the ticket's own team's labels."""
    tax = cfg.taxonomy
    ok = pl.col("category").is_not_null() & ~pl.col("category").is_in(tax.catch_all)
    if tax.categories:
        ok = ok & pl.col("category").is_in(list(tax.categories))
    if tax.by_team and "team" in tickets.columns:
        team_ok = pl.lit(False)
        for team, own in tax.by_team.items():
            team_ok = team_ok | (
                (pl.col("team") == team)
                & pl.col("category").is_in(list(own.categories))
                & ~pl.col("category").is_in(tax.team_catch_all(team))
            )
        ok = pl.when(pl.col("team").is_in(list(tax.by_team))).then(team_ok).otherwise(ok)
    return tickets.select(pl.when(ok).then(pl.col("category")).alias("label"))["label"]


def label_groups(tickets: pl.DataFrame, cfg: AuditConfig) -> list[tuple[str | None, np.ndarray]]:
    """Rows judged together: one group per team with a label set of its own (a model that
    knows every team's labels would suggest another brand's label), the rest as one."""
    teams = list(cfg.taxonomy.by_team)
    if not teams or "team" not in tickets.columns:
        return [(None, np.arange(tickets.height))]
    team = tickets["team"]
    out = [(t, np.nonzero((team == t).fill_null(False).to_numpy())[0]) for t in teams]
    rest = np.nonzero((~team.is_in(teams)).fill_null(True).to_numpy())[0]
    kept = [(t, rows) for t, rows in [*out, (None, rest)] if len(rows)]
    return kept or [(None, np.arange(tickets.height))]


def _judge(
    keyed: pl.DataFrame,
    words: WordIds,
    labels: pl.Series,
    fold_group: pl.Series,
    cfg: AuditConfig,
) -> tuple[pl.DataFrame | None, dict]:
    """Out-of-fold probabilities and confident learning over one label set's tickets."""
    q = cfg.quality
    n = keyed.height
    oof = out_of_fold(words, labels, fold_group, q.label_issues)
    if oof is None:
        return None, {
            "classes": [],
            "implausible_labels": 0,
            "labels_learnable": False,
            "classifier_accuracy": None,
            "chance_accuracy": None,
            "classifier_skill": None,
            "scored_tickets": 0,
        }
    cl = confident_learning(oof.probabilities, oof.y)
    learnable = oof.skill() >= q.label_issues.min_skill
    classes = np.array(oof.classes, dtype=object)
    # Without skill the "issues" are noise: nothing is flagged, the finding is the skill.
    rows = np.nonzero(cl.issue)[0] if learnable else np.zeros(0, np.int64)
    unl = ~oof.labelled
    best = oof.probabilities.argmax(axis=1)
    confident_unlabelled = unl & (oof.probabilities[np.arange(n), best] >= cl.thresholds[best])
    # The model's category for each ticket without a usable label (the worklist suggests it
    # to whoever relabels); only where the text predicts labels at all.
    open_rows = np.nonzero(unl)[0] if learnable else np.zeros(0, np.int64)
    frame = pl.concat(
        [
            _implausible(keyed, oof, cl.suggested, classes, rows),
            _suggested(keyed, oof, best, classes, open_rows),
        ],
        how="vertical",
    )
    return frame, {
        "classes": oof.classes,
        "classifier_accuracy": oof.accuracy(),
        "chance_accuracy": oof.chance_accuracy(),
        "classifier_skill": oof.skill(),
        # Label issues are meaningful only when text predicts the label at all.
        "labels_learnable": learnable,
        "thresholds": dict(zip(oof.classes, map(float, cl.thresholds), strict=True)),
        "implausible_labels": len(rows),
        "estimated_label_errors": cl.estimated_issues,
        "scored_tickets": int(oof.labelled.sum()),
        "confusion": [
            {
                "given": oof.classes[i],
                "suggested": oof.classes[j],
                "tickets": int(cl.confident_joint[i, j]),
            }
            for i in range(len(oof.classes))
            for j in range(len(oof.classes))
            if i != j and cl.confident_joint[i, j] > 0
        ],
        # Tickets without a usable label that the model would label confidently.
        "auto_label_candidates": int(confident_unlabelled.sum()) if learnable else 0,
        "unlabelled_tickets": int(unl.sum()),
    }


def _implausible(
    keyed: pl.DataFrame,
    oof: OutOfFold,
    suggested: np.ndarray,
    classes: np.ndarray,
    rows: np.ndarray,
) -> pl.DataFrame:
    """Issue rows of the labelled tickets whose label the text contradicts."""
    given = oof.y[rows]
    sugg = suggested[rows]
    return pl.DataFrame(
        {
            "source": keyed["source"].gather(rows),
            "ticket_id": keyed["ticket_id"].gather(rows),
            "issue": pl.Series(["implausible_label"] * len(rows), dtype=pl.Utf8),
            "given_category": pl.Series(classes[given].tolist(), dtype=pl.Utf8),
            "suggested_category": pl.Series(classes[sugg].tolist(), dtype=pl.Utf8),
            "given_probability": oof.probabilities[rows, given].astype(np.float64),
            "suggested_probability": oof.probabilities[rows, sugg].astype(np.float64),
        },
        schema=ISSUE_SCHEMA,
    )


def _suggested(
    keyed: pl.DataFrame,
    oof: OutOfFold,
    best: np.ndarray,
    classes: np.ndarray,
    open_rows: np.ndarray,
) -> pl.DataFrame:
    """Issue rows suggesting the model's category for tickets without a usable label."""
    return pl.DataFrame(
        {
            "source": keyed["source"].gather(open_rows),
            "ticket_id": keyed["ticket_id"].gather(open_rows),
            "issue": pl.Series(["suggested_label"] * len(open_rows), dtype=pl.Utf8),
            "given_category": keyed["category"].gather(open_rows),
            "suggested_category": pl.Series(classes[best[open_rows]].tolist(), dtype=pl.Utf8),
            "given_probability": pl.Series([None] * len(open_rows), dtype=pl.Float64),
            "suggested_probability": oof.probabilities[open_rows, best[open_rows]].astype(
                np.float64
            ),
        },
        schema=ISSUE_SCHEMA,
    )


def _combine(parts: list[tuple[str | None, dict]], min_skill: float) -> dict:
    """One label verdict over several label sets: accuracy and chance weighted by scored
    tickets; learnable only when that combined skill is real."""
    scored = [(t, st) for t, st in parts if st["scored_tickets"]]
    total = sum(st["scored_tickets"] for _, st in scored)
    if not total:
        return {**parts[0][1], "by_team": [{"team": t, **st} for t, st in parts]}
    acc = sum(st["classifier_accuracy"] * st["scored_tickets"] for _, st in scored) / total
    chance = sum(st["chance_accuracy"] * st["scored_tickets"] for _, st in scored) / total
    skill = (acc - chance) / (1 - chance) if chance < 1 else 0.0
    out = {
        "classes": sorted({c for _, st in scored for c in st["classes"]}),
        "classifier_accuracy": acc,
        "chance_accuracy": chance,
        "classifier_skill": skill,
        "labels_learnable": skill >= min_skill,
        "implausible_labels": sum(st["implausible_labels"] for _, st in parts),
        "estimated_label_errors": sum(st.get("estimated_label_errors", 0) for _, st in parts),
        "scored_tickets": total,
        "confusion": [{**c, "team": t} for t, st in parts for c in st.get("confusion", [])],
        "auto_label_candidates": sum(st.get("auto_label_candidates", 0) for _, st in parts),
        "unlabelled_tickets": sum(st.get("unlabelled_tickets", 0) for _, st in parts),
        # Each label set judged on its own tickets: flags come only from teams with skill.
        "by_team": [
            {"team": t, **{k: v for k, v in st.items() if k not in ("confusion", "thresholds")}}
            for t, st in parts
        ],
    }
    return out


def analyse_labels(
    tickets: pl.DataFrame, words: WordIds, groups: pl.DataFrame, cfg: AuditConfig
) -> LabelFindings:
    """`tickets`: source, ticket_id, category (and team, for per-team label sets). `words`:
    their subjects' and descriptions' word ids, row for row. `groups`: source, ticket_id,
    group_id, label_conflict (duplicate group members)."""
    n = tickets.height
    q = cfg.quality
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    keyed = tickets.select("source", "ticket_id", "category").join(
        groups.select("source", "ticket_id", "group_id", "label_conflict"),
        on=["source", "ticket_id"],
        how="left",
        maintain_order="left",
    )
    fold_group = keyed.select(
        pl.coalesce("group_id", pl.col("source") + ":" + pl.col("ticket_id"))
    ).to_series()
    labels = trainable_labels(tickets, cfg)
    frames = []
    parts: list[tuple[str | None, dict]] = []
    sets = label_groups(tickets, cfg)
    for team, rows in sets:
        whole = len(sets) == 1
        frame, st = _judge(
            keyed if whole else keyed[rows],
            words if whole else words.take(rows),
            labels if whole else labels.gather(rows),
            fold_group if whole else fold_group.gather(rows),
            cfg,
        )
        if frame is not None:
            frames.append(frame)
        parts.append((team, st))
    timings["classifier"] = time.perf_counter() - t0
    stats: dict = {"tickets": n, "timings": timings}
    stats.update(parts[0][1] if len(parts) == 1 else _combine(parts, q.label_issues.min_skill))
    # Tickets with a label the model could learn; those of too-small categories go unscored.
    stats["labelled_tickets"] = int(labels.is_not_null().sum())

    catch_all = keyed.filter(pl.col("category").is_in(cfg.taxonomy.catch_all))
    frames.append(_simple(catch_all, "catch_all"))
    counts = (
        keyed.drop_nulls("category")
        .group_by("category")
        .len("tickets")
        .with_columns(share=pl.col("tickets") / max(n, 1))
    )
    # Ties in name order: group_by's order varies between runs, and so did the list's.
    rare = counts.filter(pl.col("share") < q.rare_category_share).sort("tickets", "category")
    frames.append(_simple(keyed.join(rare.select("category"), on="category"), "rare_category"))
    conflicts = keyed.filter(pl.col("label_conflict").fill_null(False))
    frames.append(_simple(conflicts, "label_conflict"))
    known = set(cfg.taxonomy.categories) | set(cfg.taxonomy.catch_all)
    stats.update(
        {
            "catch_all_tickets": catch_all.height,
            "label_conflict_tickets": conflicts.height,
            "rare_categories": [
                {
                    "category": r["category"],
                    "tickets": r["tickets"],
                    "share": r["share"],
                    "in_taxonomy": r["category"] in known,
                }
                for r in rare.iter_rows(named=True)
            ],
            "categories_used": counts.height,
        }
    )
    return LabelFindings(pl.concat(frames, how="vertical"), stats)


def _simple(frame: pl.DataFrame, issue: str) -> pl.DataFrame:
    return frame.select(
        "source",
        "ticket_id",
        pl.lit(issue).alias("issue"),
        pl.col("category").alias("given_category"),
        pl.lit(None, pl.Utf8).alias("suggested_category"),
        pl.lit(None, pl.Float64).alias("given_probability"),
        pl.lit(None, pl.Float64).alias("suggested_probability"),
    ).cast(ISSUE_SCHEMA)


def run_label_consistency(cfg: AuditConfig, progress: Progress = log.info) -> LabelFindings:
    """Read tickets, their word ids and duplicate groups, analyse, replace
    `audit.label_issues`.

    Only new and reloaded tickets are read as text and tokenised; the others' word ids are
    kept from earlier audits (word_store.py), and the findings equal a fresh run's (tested).
    """
    t0 = time.perf_counter()
    with open_store(cfg.duckdb_path) as con:
        ensure_tables(con)
        found = read_ticket_words(con)
        keep_fresh(con, found)
        groups = con.sql(
            "SELECT source, ticket_id, group_id, label_conflict FROM audit.duplicate_groups"
        ).pl()
    read = time.perf_counter() - t0
    progress(
        f"label consistency: {found.tickets.height:,} tickets read, "
        f"{len(found.fresh):,} of them new or reloaded and tokenised"
    )
    findings = analyse_labels(found.tickets, found.words, groups, cfg)
    findings.stats["tokenised"] = len(found.fresh)
    t0 = time.perf_counter()
    with open_store(cfg.duckdb_path) as con:
        ensure_tables(con)
        with transaction(con, label_issue_rows=findings.issues.to_arrow()):
            con.execute("DELETE FROM audit.label_issues")
            con.execute("INSERT INTO audit.label_issues SELECT * FROM label_issue_rows")
            findings.stats["timings"].update({"read": read, "write": time.perf_counter() - t0})
            save_stage_stats(con, "label_consistency", findings.stats)
    progress(
        f"label consistency: {findings.stats['implausible_labels']:,} implausible labels, "
        f"{findings.stats['label_conflict_tickets']:,} tickets in conflicting duplicate groups"
    )
    return findings
