"""Configuration of the database and helpdesk kinds, and the HTTP helpers (no services)."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.credentials import scrub
from connectors.http import retry_after_seconds
from ticket_audit.config import ConfigError, parse_config

MAPPING = {"fields": {"ticket_id": "id", "created_at": "created"}}


def _parse(source: dict) -> object:
    return parse_config({"sources": [source]}, base_dir=Path(".")).sources[0]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"kind": "postgres", "database": "d", "mapping": MAPPING}, "exactly one of `table`"),
        (
            {
                "kind": "mysql",
                "database": "d",
                "table": "t",
                "query": "SELECT 1",
                "mapping": MAPPING,
            },
            "exactly one of `table`",
        ),
        (
            {
                "kind": "postgres",
                "database": "d",
                "table": "t",
                "password_env": "my password",
                "mapping": MAPPING,
            },
            "password_env",
        ),
        (
            {
                "kind": "postgres",
                "database": "d",
                "table": "t",
                "detect_hard_deletes": True,
                "key_column": "other",
                "mapping": MAPPING,
            },
            "detect_hard_deletes needs `key_column`",
        ),
        (
            {
                "kind": "postgres",
                "database": "d",
                "table": "t",
                "mapping": {
                    **MAPPING,
                    "messages": {
                        "file": {"path": "m.csv", "fields": {"ticket_id": "t", "body": "b"}}
                    },
                },
            },
            "use `messages` (table or query)",
        ),
        ({"kind": "zendesk", "mapping": MAPPING}, "exactly one of `subdomain` or `base_url`"),
        ({"kind": "freshdesk", "domain": "acme", "include": ["everything"]}, "unknown include"),
        (
            {
                "kind": "zendesk",
                "subdomain": "acme",
                "mapping": {
                    **MAPPING,
                    "messages": {"from_columns": [{"column": "x", "author_role": "agent"}]},
                },
            },
            "helpdesk sources load the conversation from the API",
        ),
    ],
)
def test_invalid_sources_name_the_problem(source: dict, message: str) -> None:
    with pytest.raises(ConfigError, match="sources\\[0\\]") as err:
        _parse({"name": "s", **source})
    assert message in str(err.value)


def test_helpdesk_sources_default_to_the_shipped_mappings() -> None:
    zd = _parse({"name": "zd", "kind": "zendesk", "subdomain": "acme"})
    fd = _parse({"name": "fd", "kind": "freshdesk", "domain": "acme"})
    assert zd.mapping.fields["team"] == "group_name" and zd.token_env == "ZENDESK_API_TOKEN"
    assert (
        fd.mapping.value_maps["status"]["4"] == "solved" and fd.api_key_env == "FRESHDESK_API_KEY"
    )


def test_sql_source_key_defaults_to_the_ticket_id_column() -> None:
    src = _parse({"name": "db", "kind": "mysql", "database": "d", "table": "t", "mapping": MAPPING})
    assert src.key() == "id" and src.port == 3306 and src.user == "root"


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_scrub_removes_plain_and_url_encoded_secrets() -> None:
    secret = "p@ss w/rd"
    text = f"postgresql://u:{'p%40ss%20w%2Frd'}@h/db failed; password {secret}"
    assert secret not in scrub(text, secret) and "p%40ss" not in scrub(text, secret)
