"""The scanner's cross-scan caches and parallel passes change speed, never findings."""

from __future__ import annotations

import os
import time

import pytest

from ticket_audit.pii.evaluate import SYNTH_RELATIVE, load_synth
from ticket_audit.pii.scan import Scanner, _patterns_in_worker, collapse_placeholders, to_original


def _texts(shared_data) -> list[str]:
    records = load_synth(shared_data / SYNTH_RELATIVE)[:400]
    texts = [r.text for r in records]
    # Support desks repeat themselves: the same texts again, as a later month would.
    return texts + texts[:100]


def test_cached_and_parallel_scans_equal_the_plain_scan(scanner: Scanner, shared_data) -> None:
    texts = _texts(shared_data)
    plain_config = scanner.config.model_copy(update={"cache_segments": False})
    plain = Scanner(plain_config, analyzer=scanner.analyzer).scan(texts, n_process=1)

    fresh = Scanner(scanner.config, analyzer=scanner.analyzer)
    first = fresh.scan(texts, n_process=2)  # pattern and NER passes in worker processes
    assert first == plain
    assert any(first), "the sample holds PII: an empty result would prove nothing"

    again = fresh.scan(texts[:250], n_process=1)
    assert again == plain[:250]
    # every sentence and text was seen by the first scan: no NER and no pattern work again
    assert fresh.stats.distinct_segments_cached == fresh.stats.distinct_segments > 0
    assert len(fresh._pattern_cache) == len(set(texts))


@pytest.mark.parametrize(
    ("text", "collapsed"),
    [
        ("no placeholder here", "no placeholder here"),
        ("Hi <PERSON_1f3a9c2b>, thanks", "Hi <PERSON>, thanks"),
        ("<EMAIL_00aa11bb><PHONE_NUMBER_1234abcd> x", "<EMAIL><PHONE_NUMBER> x"),
        ("a template leftover <CUSTOMER_NAME> stays", "a template leftover <CUSTOMER_NAME> stays"),
    ],
)
def test_collapse_placeholders(text: str, collapsed: str) -> None:
    short, subs = collapse_placeholders(text)
    assert short == collapsed
    # every character outside a placeholder maps back to itself
    for word in ("thanks", "x", "stays", "here"):
        if word in short:
            s = short.index(word)
            a, b = to_original(s, s + len(word), subs)
            assert text[a:b] == word
    for ns, ne, os_, oe in subs:  # a span inside a placeholder covers the whole placeholder
        assert to_original(ns + 1, ne - 1, subs) == (os_, oe)


def test_findings_around_placeholders_keep_their_offsets(scanner: Scanner) -> None:
    text = (
        "Thanks <PERSON_1f3a9c2b>, we wrote to jane.doe@example.com and to "
        "<EMAIL_9a8b7c6d>; card 4111 1111 1111 1111 was never charged."
    )
    for found in (scanner.scan([text])[0], scanner.scan([text], n_process=1)[0]):
        values = {text[f.start : f.end]: f.entity_type for f in found}
        assert values.get("jane.doe@example.com") == "EMAIL_ADDRESS"
        assert values.get("4111 1111 1111 1111") == "CREDIT_CARD"


def test_full_caches_are_emptied_without_losing_a_result(
    scanner: Scanner, shared_data, monkeypatch
) -> None:
    import ticket_audit.pii.scan as scan_module

    texts = _texts(shared_data)
    expected = scanner.scan(texts, n_process=1)
    monkeypatch.setattr(scan_module, "NER_CACHE_SENTENCES", 50)
    monkeypatch.setattr(scan_module, "PATTERN_CACHE_TEXTS", 30)
    small = Scanner(scanner.config, analyzer=scanner.analyzer)
    # each call mixes what the cache holds with more than it can take
    for first in range(0, len(texts), 40):
        window = texts[max(0, first - 20) : first + 40]
        assert small.scan(window, n_process=1) == expected[max(0, first - 20) : first + 40]
        assert len(small._pattern_cache) <= 30 + 60 and len(small._ner_cache) <= 50 + 400


def test_idle_cores_are_sampled_now(scanner: Scanner) -> None:
    import os

    from ticket_audit.pii.cores import idle_cpus
    from ticket_audit.pii.scan import FORK_START_MIN_ITEMS

    assert 0.0 <= idle_cpus() <= (os.cpu_count() or 1)
    assert scanner._n_process(FORK_START_MIN_ITEMS - 1, "auto") == 1  # small batch: one process
    assert scanner._n_process(10, 2) == 2  # an explicit count is obeyed


def test_a_helper_process_takes_chunks_from_the_back_in_order(
    scanner: Scanner, shared_data
) -> None:
    texts = _texts(shared_data) * 8
    expected = [scanner.pattern_findings(t) for t in texts]
    fresh = Scanner(scanner.config, analyzer=scanner.analyzer)
    here_did: list[int] = []

    def slow_here(chunk: list[str]) -> list:
        # Slow enough that the helper loads its model and takes a share of the batch.
        here_did.append(len(chunk))
        time.sleep(1.0)
        return [fresh.pattern_findings(t) for t in chunk]

    try:
        out = fresh._shared(slow_here, _patterns_in_worker, texts, procs=2)
    finally:
        fresh.close()
    assert out == expected
    assert 0 < sum(here_did) < len(texts), "both this process and the helper did chunks"


def test_a_failing_helper_leaves_its_work_to_this_process(
    scanner: Scanner, shared_data, caplog
) -> None:
    texts = _texts(shared_data) * 8
    fresh = Scanner(scanner.config, analyzer=scanner.analyzer)
    here_did: list[int] = []

    def here(chunk: list[str]) -> list:
        here_did.append(len(chunk))
        time.sleep(1.0)  # the helper gets to fail on a chunk before this process is done
        return [fresh.pattern_findings(t) for t in chunk]

    try:
        # int() of a list raises in the helper: every chunk comes back to this process.
        out = fresh._shared(here, int, texts, procs=2)
    finally:
        fresh.close()
    assert out == [scanner.pattern_findings(t) for t in texts]
    assert sum(here_did) == len(texts)
    warned = [r.getMessage() for r in caplog.records if "helper process failed" in r.getMessage()]
    assert warned and all("TypeError" in m and "[" not in m for m in warned)  # no chunk quoted


def test_the_language_model_multiplies_without_blis(scanner: Scanner) -> None:
    """BLIS picks its kernel by CPU model and runs its slow reference kernel on models it
    does not know; every layer of the loaded pipeline uses numpy's matmul instead."""
    layers = [
        layer
        for _, component in scanner.nlp.components
        if hasattr(getattr(component, "model", None), "walk")
        for layer in component.model.walk()
    ]
    assert layers
    assert all(getattr(layer.ops, "use_blis", None) is False for layer in layers)


def test_prepare_starts_helpers_only_for_a_big_batch(scanner: Scanner) -> None:
    from ticket_audit.pii.scan import POOL_START_MIN_ITEMS

    scanner.close()
    scanner.prepare(POOL_START_MIN_ITEMS - 1)
    assert scanner._workers is None
    scanner.prepare(POOL_START_MIN_ITEMS, n_process=2)
    try:
        assert scanner._workers is not None and scanner._workers_n == 1
        # Started helpers are used without sampling the cores again (on two cores or more).
        if len(os.sched_getaffinity(0)) >= 2:
            assert scanner._n_process(POOL_START_MIN_ITEMS, "auto") == 2
    finally:
        scanner.close()


def test_stored_ner_results_are_reused_by_a_later_audit(
    scanner: Scanner, shared_data, tmp_path
) -> None:
    from ticket_audit.pii.ner_store import NerStore
    from ticket_audit.store import open_store

    texts = _texts(shared_data)
    plain = Scanner(scanner.config, analyzer=scanner.analyzer).scan(texts, n_process=1)

    def store():
        return open_store(tmp_path / "ner.duckdb")

    first_audit = Scanner(scanner.config, analyzer=scanner.analyzer)
    ner = NerStore(store, salt="secret", settings="s1")
    assert first_audit.scan(texts[:300], n_process=1, stored=ner) == plain[:300]
    assert first_audit.stats.distinct_segments_stored == 0
    seen = first_audit.stats.distinct_segments
    with store() as con:
        assert ner.flush(con) == seen > 0
        assert ner.flush(con) == 0  # flushed once
        # Keys only: no sentence is stored.
        cells = con.sql("SELECT COLUMNS(*)::VARCHAR FROM audit.ner_spans").fetchall()
    assert len(cells) == seen
    assert not any(len(word) > 3 and word in str(cells) for word in texts[0].split())

    # A later audit (a new process: empty in-process cache) runs NER on new sentences only.
    later = Scanner(scanner.config, analyzer=scanner.analyzer)
    assert later.scan(texts, n_process=1, stored=NerStore(store, "secret", "s1")) == plain
    assert 0 < later.stats.distinct_segments_stored <= seen
    assert later.stats.distinct_segments_stored < later.stats.distinct_segments
    # Other settings or another key find nothing.
    for salt, settings in (("secret", "s2"), ("other key", "s1")):
        other = Scanner(scanner.config, analyzer=scanner.analyzer)
        other.scan(texts[:300], n_process=1, stored=NerStore(store, salt, settings))
        assert other.stats.distinct_segments_stored == 0


def test_close_stops_helpers_that_ignore_sigterm(scanner: Scanner) -> None:
    """A process started with SIGTERM ignored passes that on to its helpers; closing the
    scanner while they still load their model must not wait for them forever (it did:
    Pool.terminate holds the task queue's lock and relies on SIGTERM)."""
    import signal
    import threading

    scanner.close()
    before = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        scanner.prepare(10**6, n_process=2)
    finally:
        signal.signal(signal.SIGTERM, before)
    helpers = list(scanner._workers._pool)
    assert helpers
    closing = threading.Thread(target=scanner.close, daemon=True)
    closing.start()  # at once: the helper is still loading its model
    closing.join(timeout=60)
    assert not closing.is_alive(), "close() hung on helpers that ignore SIGTERM"
    assert all(not p.is_alive() for p in helpers)
