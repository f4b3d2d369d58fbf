"""The ownership scorecard: missing owners, stale reviews, fields without a steward.

Score (docs/ownership.md): each area counts 1 when owned with a review within
`stale_after_days`, 0.5 when owned but the review is stale, undated or dated in the future,
0 when unowned; score = 0.8 x mean over areas + 0.2 x share of canonical ticket fields with
a steward.
"""

from __future__ import annotations

from datetime import date

from ticket_audit.model import TICKET_COLUMNS
from ticket_audit.ownership.owners import AREAS, OwnersFile

AREA_WEIGHT = 0.8
STEWARD_WEIGHT = 0.2
STATUS_CREDIT = {"ok": 1.0, "stale": 0.5, "no_review": 0.5, "review_in_future": 0.5, "missing": 0.0}
# Lineage and bookkeeping columns are the pipeline's, not a business steward's.
STEWARDED_FIELDS = tuple(f for f in TICKET_COLUMNS if f not in ("deleted_at", "labels"))


def _status(reviewed: date | None, as_of: date, stale_after_days: int) -> tuple[str, int | None]:
    if reviewed is None:
        return "no_review", None
    age = (as_of - reviewed).days
    if age < 0:
        return "review_in_future", age
    return ("stale" if age > stale_after_days else "ok"), age


def responsibilities(owners: OwnersFile | None, as_of: date, stale_after_days: int) -> list[dict]:
    rows = []
    for name, title in AREAS.items():
        area = owners.area(name) if owners else None
        if area is None:
            rows.append(
                {
                    "area": name,
                    "title": title,
                    "owner": None,
                    "team": None,
                    "contact": None,
                    "reviewed_on": None,
                    "status": "missing",
                    "review_age_days": None,
                }
            )
            continue
        status, age = _status(area.last_review, as_of, stale_after_days)
        rows.append(
            {
                "area": name,
                "title": title,
                "owner": area.display(),
                "team": area.team,
                "contact": area.contact,
                "reviewed_on": area.last_review.isoformat() if area.last_review else None,
                "status": status,
                "review_age_days": age,
            }
        )
    return rows


def stewards(owners: OwnersFile | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if owners is None:
        return out
    for name in AREAS:
        area = owners.area(name)
        for f in area.fields if area else []:
            out.setdefault(f, []).append(name)
    return out


def ownership_scorecard(
    owners: OwnersFile | None,
    *,
    as_of: date,
    stale_after_days: int,
    evidence: dict | None = None,
    owners_file: str | None = None,
) -> dict:
    rows = responsibilities(owners, as_of, stale_after_days)
    by_field = stewards(owners)
    unstewarded = [f for f in STEWARDED_FIELDS if f not in by_field]
    coverage = 1 - len(unstewarded) / len(STEWARDED_FIELDS)
    area_score = sum(STATUS_CREDIT[r["status"]] for r in rows) / len(rows)
    return {
        "score": round(AREA_WEIGHT * area_score + STEWARD_WEIGHT * coverage, 4),
        "as_of": as_of.isoformat(),
        "stale_after_days": stale_after_days,
        "owners_file": owners_file,
        "responsibilities": rows,
        "missing_owners": [r["area"] for r in rows if r["status"] == "missing"],
        "stale_reviews": [r["area"] for r in rows if r["status"] in ("stale", "no_review")],
        "future_reviews": [r["area"] for r in rows if r["status"] == "review_in_future"],
        "fields_without_steward": unstewarded,
        "steward_coverage": round(coverage, 4),
        "shared_stewardship": {f: a for f, a in by_field.items() if len(a) > 1},
        "evidence": evidence or {},
    }
