"""The NER pass reads only the pieces of a sentence that can hold a name or a place (issue 19:
speed on text that does not repeat), and finds there what it finds on the whole sentence."""

from __future__ import annotations

import spacy

from ticket_audit.pii.scan import NER_CONTEXT_WORDS, Scanner, could_hold_a_name, name_windows

STOP_WORDS = frozenset(spacy.util.get_lang_class("en").Defaults.stop_words)
FILLER = " ".join(["the app keeps crashing whenever the sync runs"] * 4)


def test_sentences_without_a_possible_name_are_not_read() -> None:
    # Sentence openers, contractions and title-case stop words of sentences joined without a
    # full stop ("... intermittent. We The issue ...") cannot be names.
    for sentence in (
        "The app crashes when I save.",
        "It's causing data loss and unexpected errors.",
        "We've tried everything, We The issue I'm facing is intermittent.",
    ):
        assert not could_hold_a_name(sentence, STOP_WORDS), sentence
        assert name_windows(sentence, STOP_WORDS) == []
    for sentence in (
        "Thanks, May.",  # a stop word that is also a given name
        "The parcel went to Rotterdam.",
        "my flight with olga krylova",  # all lower case: read whole
    ):
        assert could_hold_a_name(sentence, STOP_WORDS), sentence
        assert name_windows(sentence, STOP_WORDS) == [(0, len(sentence))]


def test_a_long_sentence_is_read_around_its_candidates() -> None:
    sentence = f"Maria Lopez wrote that {FILLER} and then Peter Jansen replied from Rotterdam"
    pieces = name_windows(sentence, STOP_WORDS)
    assert len(pieces) == 2
    (a0, b0), (a1, b1) = pieces
    assert a0 == 0 and sentence[a0:b0].startswith("Maria Lopez")
    assert sentence[a1:b1].endswith("Peter Jansen replied from Rotterdam")
    # Context either side of each candidate, not the middle of the sentence.
    assert b0 < a1 and "sync runs" in sentence[b0:a1]
    assert len(sentence[a0:b0].split()) <= 2 + NER_CONTEXT_WORDS


def test_names_in_windows_keep_their_offsets(scanner: Scanner) -> None:
    text = (
        "Hello,\nPlease note: "
        f"Maria Lopez wrote that {FILLER} and then Peter Jansen replied from Rotterdam.\n"
    )
    found = {(text[f.start : f.end], f.entity_type) for f in scanner.scan_one(text)}
    assert {("Maria Lopez", "PERSON"), ("Peter Jansen", "PERSON")} <= found
    assert "Rotterdam" in {value for value, _ in found}  # the small model calls it a person


def test_windows_find_what_the_whole_sentence_finds(pii_config, scanner: Scanner) -> None:
    texts = [
        f"Maria Lopez wrote that {FILLER} and then Peter Jansen replied from Rotterdam.",
        f"{FILLER} until Dr. Anne Smith in Leeds fixed it, {FILLER} says Tom.",
        f"On Monday {FILLER}, then {FILLER} and Jean Dupont of Lyon called.",
    ]
    whole = Scanner(pii_config, scanner.analyzer)
    # The whole sentence as the one NER piece: what the pass read before windows.
    expected = []
    for t in texts:
        spans = whole._person_spans_here([t])[0]
        expected.append({(t[s:e], whole.person.ENTITIES[k]) for s, e, k in spans})
    for t, want in zip(texts, expected, strict=True):
        got = {(t[f.start : f.end], f.entity_type) for f in scanner.scan_one(t)}
        assert want <= got, t


def test_french_in_a_running_helper_finds_the_same(pii_config, scanner: Scanner) -> None:
    # With a helper running, the French sentences go to it while this process reads the
    # English ones (or come back here when it is not done): same findings either way.
    french = [
        f"Bonjour, la commande de Sophie Lefèvre est partie de Marseille hier soir ({i})."
        for i in range(6)
    ]
    english = [
        f"Maria Lopez wrote that {FILLER} ({i}) and Peter Jansen replied." for i in range(40)
    ]
    texts = french + english
    expected = scanner.scan(texts, n_process=1)
    two = Scanner(pii_config.model_copy(update={"cache_segments": False}), scanner.analyzer)
    try:
        for _ in range(2):  # the first starts the helper; the second finds it running
            assert two.scan(texts, n_process=2) == expected
    finally:
        two.close()
    found = {
        (t[f.start : f.end], f.entity_type)
        for t, fs in zip(texts, expected, strict=True)
        for f in fs
    }
    assert ("Sophie Lefèvre", "PERSON") in found


def test_other_languages_are_read_by_whole_sentences(scanner: Scanner) -> None:
    # Issue 20's masked export: a window cut before "architecture cloud" made the French
    # model tag those words as a person; French sentences are read whole.
    text = (
        "Cher service client, \n\nJ'espère que ce message vous trouve en bonne santé. Nous "
        "connaissons actuellement un temps d'arrêt significatif avec notre architecture "
        "cloud, affectant spécifiquement le service de gestion AWS. Ce problème nécessite "
        "une attention immédiate pour rétablir le service.\n\nCordialement,\n\n<name>"
    )
    found = scanner.scan([text], n_process=1)
    assert scanner.text_languages == ["fr"]
    assert [text[f.start : f.end] for f in found[0] if f.entity_type == "PERSON"] == []
