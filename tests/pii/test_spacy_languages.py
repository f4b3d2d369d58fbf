"""spaCy's French token rules, grouped to compile in 0.1 s, match exactly what spaCy's own
1.45 MB expression matches, and a French model loaded through `load_spacy` tokenizes as
spaCy's own does."""

from __future__ import annotations

import itertools
import re

import pytest

from ticket_audit.pii.analyzer import load_spacy
from ticket_audit.pii.spacy_languages import (
    FRENCH_RULES_MODULE,
    _joined,
    fast_french_rules,
    grouped_rules,
    lang_class,
)

lang_class("fr")  # imports spaCy's French module (under the fast rules)
te = pytest.importorskip(FRENCH_RULES_MODULE)

WORDS = ["truc", "Truc", "bonjour", "état", "éclair", "l'air", "x", "Ÿ", "ｗ", "123", "a-b", ""]
HYPHENS = ["-", "‐", "–", "_", " "]
ELISIONS = ["'", "’", "`"]


def _sample(rule: str) -> str:
    """A string of one of spaCy's rule pieces (its first choice everywhere): "bo[îi]te" ->
    "boîte", "vie(?:ux|i?lles?)" -> "vieux", "(?:re)?doubles?" -> "redoubles"."""
    s = re.sub(r"\(\?:([^|()]*)(?:\|[^()]*)?\)", r"\1", rule)
    s = re.sub(r"\[(.)[^\]]*\]", r"\1", s)
    return s.replace("?", "")


def _candidates() -> set[str]:
    """Strings on both sides of every rule: each prefix and combination joined to words by
    every hyphen and elision (some not allowed), the rules written one by one, the module's
    exceptions, and plain words."""
    out: set[str] = set(te.TOKENIZER_EXCEPTIONS) | set(WORDS)
    prefixes = [_sample(p) for p in te._hyphen_prefix + te._elision_prefix]
    prefixes += ["entr", "rentr", "grandes", "faux", "Faux", "FAUX", "pseudo"]
    for p, sep, w in itertools.product(prefixes, HYPHENS + ELISIONS, WORDS):
        out.add(f"{p}{sep}{w}")
    for combo in te._hyphen_combination:
        for a, b in itertools.product(["saut", "Pet", "Ça", "1"], ["ski", "l'air", "l’Air", ""]):
            c = _sample(combo)
            out.update({f"{a}-{c}-{b}", f"{a}‐{c}-{b}", f"{a} {c}-{b}"})
    n_special = len(te._regular_exp) - len(te._hyphen_prefix) - len(te._elision_prefix)
    for rule in te._regular_exp[: n_special - len(te._hyphen_combination)]:
        # "^binge[-–]watch[a-z…]+$" -> "binge-watche", "binge-watch", "BINGE-WATCHE", …
        word = re.sub(r"\[-[^\]]*\]", "-", rule.strip("^$"))
        word = re.sub(r"\['[^\]]*\]", "'", word)
        word = _sample(re.sub(r"\[a-z[^\]]*\][+*]", "e", word))
        out.update({word, word[:-1], word.upper(), word.replace("-", "‑"), word + "-x"})
    return out


@pytest.fixture(scope="module")
def original() -> re.Pattern[str]:
    pattern = _joined(te._regular_exp)
    assert len(pattern) > 1_000_000  # still the expression worth grouping
    return re.compile(pattern)  # the real compile: outside fast_french_rules, 2 s


def test_grouped_rules_match_exactly_what_spacy_matches(original):
    grouped = re.compile(grouped_rules(te._regular_exp))
    candidates = _candidates()
    disagree = [c for c in candidates if bool(original.match(c)) != bool(grouped.match(c))]
    assert not disagree, disagree[:10]
    matched = [c for c in candidates if original.match(c)]
    # Every one of spaCy's rules matches some candidate, so none can go missing unseen.
    rules = [re.compile("(?iu)" + r) for r in te._regular_exp]
    unmatched = [r.pattern for r in rules if not any(r.match(c) for c in matched)]
    assert not unmatched, unmatched[:3]
    # Both sides are exercised: many strings matched, many not.
    assert len(matched) > 2_000 and len(candidates) - len(matched) > 2_000
    assert len(grouped.pattern) < len(original.pattern) / 20


def test_french_model_tokenizes_as_with_spacy_rules(original):
    nlp = load_spacy("fr_core_news_sm", True)
    assert len(nlp.tokenizer.token_match.__self__.pattern) < 100_000  # grouped, not spaCy's
    text = (
        "Aujourd'hui, l'entr'acte du porte-monnaie est peut-être à Saint-Denis-en-Val ; "
        "le faux-semblant d'Île-de-France, arrière-grand-père, c'est-à-dire grand'mère, "
        "New-York et états-unis, pet-en-l'air, hip-hop, auto-école."
    )
    fast = [t.text for t in nlp.tokenizer(text)]
    token_match = nlp.tokenizer.token_match
    try:
        nlp.tokenizer.token_match = original.match
        assert [t.text for t in nlp.tokenizer(text)] == fast
    finally:
        nlp.tokenizer.token_match = token_match
    assert "peut-être" in fast and "Saint-Denis-en-Val" in fast


def test_other_patterns_compile_as_usual_and_compile_is_restored():
    real = re.compile
    big = "(?:" + "|".join(f"word{i}" for i in range(20_000)) + ")"
    with fast_french_rules():
        assert re.compile is not real
        assert re.compile(big).pattern == big  # large, but not the French rules
        assert re.compile("a+", re.I).flags & re.I
    assert re.compile is real


def test_the_rules_compile_only_when_french_is_tokenized():
    """Importing spaCy's French module (for its stop words) leaves the rules uncompiled; the
    first French text tokenized compiles them, and a pickled tokenizer match still works."""
    import pickle
    import subprocess
    import sys

    script = (
        "from ticket_audit.pii import spacy_languages as sl\n"
        "sl.lang_class('fr')\n"
        "print(sorted(p._pattern is None for p in sl._grouped.values()))\n"
        "from ticket_audit.pii.analyzer import load_spacy\n"
        "nlp = load_spacy('fr_core_news_sm', True)\n"
        'print([t.text for t in nlp.tokenizer("C\'est peut-être à Saint-Denis-en-Val.")])\n'
        "print(sorted(p._pattern is None for p in sl._grouped.values()))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    before, tokens, after = run.stdout.splitlines()
    assert before == "[True]" and after == "[False]"
    assert "peut-être" in tokens and "Saint-Denis-en-Val" in tokens

    match = load_spacy("fr_core_news_sm", True).tokenizer.token_match
    again = pickle.loads(pickle.dumps(match))
    for word in ("peut-être", "aujourd'hui", "bonjour", "Saint-Denis-en-Val"):
        assert bool(again(word)) == bool(match(word))
    assert again.__self__.pattern == match.__self__.pattern
