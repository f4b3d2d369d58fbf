"""MySQL/MariaDB source (connectorx) against the server on 127.0.0.1:3306."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.errors import SourceUnavailableError
from connectors.ingest import ingest_config
from tests.connectors.helpers import config
from tests.connectors.sql_cases import *  # noqa: F403 - the shared database cases
from tests.connectors.sql_tables import source, tables

pytestmark = pytest.mark.services


@pytest.fixture
def kind() -> str:
    return "mysql"


def test_wrong_password_is_refused_and_never_shown(tmp_path: Path, monkeypatch, caplog) -> None:
    monkeypatch.setenv("TA_TEST_MY_PASSWORD", "s3cret-my-password")
    with tables("mysql") as t:
        cfg = config(tmp_path, source("mysql", t, password_env="TA_TEST_MY_PASSWORD"))
        messages: list[str] = []
        with pytest.raises(SourceUnavailableError) as err:
            ingest_config(cfg, progress=messages.append)
    text = str(err.value)
    assert "source 'helpdesk_db' (mysql 127.0.0.1:3306/test): cannot connect" in text
    assert "Access denied" in text and "MySQL error 1045" in text
    assert "s3cret-my-password" not in text + caplog.text + "".join(messages)
