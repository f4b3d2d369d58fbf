"""Places: a cue phrase says a place follows ("I am in …", "moved here from …"), and what
the model tags as a place but is not one (a street word, an employer, a member of a list of
people). Each rule as text -> expected spans; the values are made up."""

from __future__ import annotations

import pytest

from tests.pii.ner_findings import ner_findings
from ticket_audit.pii.recognizers import Finding
from ticket_audit.pii.recognizers.location_cue import TicketLocationCueRecognizer
from ticket_audit.pii.scan import Scanner, drop_non_places

CUED = [
    ("I am in Kallaste for a business trip and the card is declined.", ["Kallaste"]),
    ("I'm in VÄSTRA ÅBY, at the conference, and cannot log in.", ["VÄSTRA ÅBY"]),
    ("We moved here from Tjæreholm last spring; please update the account.", ["Tjæreholm"]),
    ("I'm Noa Brandt, originally from Eckenhagen, and I need a refund.", ["Eckenhagen"]),
    ("Mr. Leiva flew to Villanueva de la Serena on Tuesday morning.", ["Villanueva de la Serena"]),
    ("She grew up in KORSBERGA.", ["KORSBERGA"]),
    ("We live in Ostrov nad Ohří and the parcel never came.", ["Ostrov nad Ohří"]),
    ("My home town Vrådal has no pickup point.", ["Vrådal"]),
    ("The courier returned to Sandvika with my parcel.", ["Sandvika"]),
]

NOT_CUED = [
    "I'm in Sales, please route this to billing.",
    "The plan is based in USD for every region.",
    "I am in Settings but the toggle is grey.",
    "The letter arrived at Unit 5477 Box 12.",
    "We moved to Monday for the call.",
    "I'm in the middle of a migration.",
    "I live in fear of the next invoice.",
]


@pytest.mark.parametrize(("text", "places"), CUED, ids=[p[0] for _, p in CUED])
def test_a_place_after_a_cue_is_found(text: str, places: list[str]) -> None:
    found = TicketLocationCueRecognizer().find(text)
    assert [text[f.start : f.end] for f in found] == places
    assert {f.entity_type for f in found} == {"LOCATION"}


@pytest.mark.parametrize("text", NOT_CUED, ids=[t[:24] for t in NOT_CUED])
def test_what_follows_a_cue_and_is_no_place_is_not_found(text: str) -> None:
    assert TicketLocationCueRecognizer().find(text) == []


@pytest.mark.parametrize(
    ("text", "place"),
    [
        # The model misses a town it does not know, or reads it as a person.
        ("I am in Kallaste for a business trip and the card is declined.", "Kallaste"),
        ("I'm Noa Brandt, originally from Eckenhagen, and I need a refund.", "Eckenhagen"),
    ],
)
def test_the_scanner_reports_the_cued_place(scanner: Scanner, text: str, place: str) -> None:
    found = [(f.entity_type, text[f.start : f.end]) for f in scanner.scan_one(text)]
    assert ("LOCATION", place) in found
    assert ("PERSON", place) not in found


@pytest.mark.parametrize(
    ("text", "found", "expected"),
    [
        # A member of a list of people the model read as a town.
        (
            "The idea came from our founders: Kovács, Becker and Lindqvist.",
            [("LOCATION", "Kovács"), ("PERSON", "Becker"), ("PERSON", "Lindqvist")],
            [("PERSON", "Becker"), ("PERSON", "Lindqvist")],
        ),
        (
            "Aiko is from Harlow, Pennick and Sorvino.",
            [("LOCATION", "Harlow"), ("PERSON", "Pennick"), ("LOCATION", "Sorvino")],
            [("PERSON", "Pennick")],
        ),
        # An employer.
        ("I work for Brightlane and need the invoice.", [("LOCATION", "Brightlane")], []),
        ("He spent a year at Corvexa as an analyst.", [("LOCATION", "Corvexa")], []),
        # A street word.
        ("The bus drops you off at 87 Kovačeva 68 St.", [("LOCATION", "St")], []),
        # A list of places and places after "work in" stay places.
        (
            "Offices in London, Paris and Oslo.",
            [("LOCATION", "London"), ("LOCATION", "Paris"), ("LOCATION", "Oslo")],
            [("LOCATION", "London"), ("LOCATION", "Paris"), ("LOCATION", "Oslo")],
        ),
        (
            "Ana Ruiz and I work in Porto.",
            [("PERSON", "Ana Ruiz"), ("LOCATION", "Porto")],
            [("PERSON", "Ana Ruiz"), ("LOCATION", "Porto")],
        ),
    ],
)
def test_what_the_model_calls_a_place_and_is_not(text, found, expected) -> None:
    out = drop_non_places(text, ner_findings(text, found))
    assert [(f.entity_type, text[f.start : f.end]) for f in out] == expected


def test_a_city_after_a_street_is_no_list_member() -> None:
    """The model may read a street as a person; the city after it stays a place."""
    text = "Please ship it to 4562 Pine Drive, Portland, OR 97205."
    street, city = text.index("Pine Drive"), text.index("Portland")
    findings = [
        Finding(street, street + 10, "PERSON", 0.85, "ner"),
        Finding(city, city + 8, "LOCATION", 0.6, "ner"),
    ]
    assert drop_non_places(text, findings) == findings
