"""py3langid's model loads on a thread of its own (issue 19: process start). A detector made
while it loads waits for it, a failed load is raised to the caller, and a process forked
while the load runs (Dagster or a test runner may fork) loads the model itself instead of
waiting for a thread that does not exist there."""

from __future__ import annotations

import multiprocessing as mp

import pytest

from ticket_audit.pii import langid_model, language
from ticket_audit.pii.language import LanguageDetector, _ModelLoading

LANGUAGES = ("en", "fr", "de")
FRENCH = "Bonjour, le mot de passe ne fonctionne plus depuis hier. Merci de votre aide."


def test_detector_waits_for_the_model() -> None:
    detector = LanguageDetector(list(LANGUAGES), "en")
    assert detector.detect(FRENCH) == "fr"
    assert detector.detect("The app crashes whenever I open the settings page.") == "en"


def test_a_failed_load_is_raised_to_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(languages: tuple[str, ...]):
        raise OSError("model file unreadable")

    monkeypatch.setattr(language, "_identifier", broken)
    with pytest.raises(OSError, match="model file unreadable"):
        _ModelLoading(LANGUAGES).result()


def _detect_in_child(loading: _ModelLoading, out) -> None:
    out.put(loading.result().classify(FRENCH)[0])


def test_a_process_forked_while_the_model_loads_loads_it_itself() -> None:
    loading = _ModelLoading(LANGUAGES)  # 0.4 s: the fork below comes while it runs
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_detect_in_child, args=(loading, out))
    child.start()
    child.join(timeout=120)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail("the forked process waited for the parent's loading thread")
    assert child.exitcode == 0
    assert out.get(timeout=5) == "fr"
    assert loading.result().classify(FRENCH)[0] == "fr"


def _same_model(ours, theirs) -> None:
    assert (ours.nb_ptc == theirs.nb_ptc).all() and (ours.nb_pc == theirs.nb_pc).all()
    assert list(ours.nb_classes) == list(theirs.nb_classes)
    assert ours.tk_nextmove == theirs.tk_nextmove
    assert ours.tk_row == theirs.tk_row and ours.tk_output == theirs.tk_output
    samples = [FRENCH, "Sehr geehrte Damen und Herren, mein Passwort geht nicht.", "ok"]
    samples += ["Olá, não consigo entrar na minha conta desde ontem.", "Hola, gracias."]
    for text in samples:
        assert ours.rank(text) == theirs.rank(text)


@pytest.fixture(scope="module")
def theirs():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@pytest.fixture
def cache_home(tmp_path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(
        langid_model.platformdirs, "user_cache_dir", lambda app: str(tmp_path / app)
    )
    return tmp_path


def test_the_model_is_py3langids_own_read_and_kept(theirs, cache_home) -> None:
    """Read from the wheel, a decompressed copy is kept; the next read comes from the copy.
    Both are py3langid's own model, array for array and text for text."""
    first = langid_model.read_model()
    kept = langid_model.cache_dir()
    assert kept.is_dir() and kept.parent.parent == cache_home
    assert sorted(p.name for p in kept.iterdir()) == sorted(
        f"{name}.npy" for name in langid_model.ARRAYS
    )
    _same_model(first, theirs)

    def no_wheel(source):
        raise AssertionError("read the wheel although a copy was kept")

    with pytest.MonkeyPatch.context() as mp_:
        mp_.setattr(langid_model, "_decompressed", no_wheel)
        _same_model(langid_model.read_model(), theirs)


def test_an_unreadable_copy_falls_back_to_the_wheel(theirs, cache_home, caplog) -> None:
    langid_model.read_model()
    (langid_model.cache_dir() / "ptc.npy").write_bytes(b"cut short")
    _same_model(langid_model.read_model(), theirs)
    assert any("unreadable" in r.getMessage() for r in caplog.records)


def test_an_unwritable_cache_still_reads_the_model(
    theirs, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    monkeypatch.setattr(langid_model.platformdirs, "user_cache_dir", lambda app: str(blocked))
    _same_model(langid_model.read_model(), theirs)


def test_a_model_laid_out_otherwise_falls_back_to_py3langid(
    cache_home, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not an npz archive (as a py3langid with another model format would give).
    monkeypatch.setattr(langid_model.lzma, "decompress", lambda data: b"PK not the arrays")
    assert langid_model.read_model().classify(FRENCH)[0] == "fr"
    assert not langid_model.cache_dir().exists()


def test_every_installation_of_the_same_model_shares_one_copy(cache_home, tmp_path) -> None:
    """Named after the model's content, not its file's time: a new virtual environment
    (same model, new file) finds the copy an earlier one kept, instead of adding 66 MB."""
    import shutil
    import time

    from py3langid.langid import MODEL_DIR, MODEL_FILE

    installed = MODEL_DIR / MODEL_FILE
    time.sleep(0.01)
    elsewhere = tmp_path / "venv2" / MODEL_FILE
    elsewhere.parent.mkdir(parents=True)
    shutil.copyfile(installed, elsewhere)  # a new mtime
    assert langid_model.cache_dir(elsewhere) == langid_model.cache_dir(installed)
    other = tmp_path / "other" / MODEL_FILE
    other.parent.mkdir(parents=True)
    other.write_bytes(installed.read_bytes()[:-1] + b"x")
    assert langid_model.cache_dir(other) != langid_model.cache_dir(installed)
