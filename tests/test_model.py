"""The data-model document lists exactly the fields the code defines."""

from __future__ import annotations

import re

from tests.conftest import REPO
from ticket_audit.model import LINEAGE_FIELDS, MESSAGE_FIELDS, TICKET_FIELDS


def test_data_model_doc_matches_model() -> None:
    doc = (REPO / "docs" / "data-model.md").read_text()
    tickets, messages = doc.split("## canonical.messages")
    for field in (*TICKET_FIELDS, *LINEAGE_FIELDS):
        assert re.search(rf"^\| {field.name} \| {re.escape(field.sql_type)} \|", tickets, re.M), (
            field
        )
    for field in (*MESSAGE_FIELDS, *LINEAGE_FIELDS):
        assert re.search(rf"^\| {field.name} \| {re.escape(field.sql_type)} \|", messages, re.M), (
            field
        )
