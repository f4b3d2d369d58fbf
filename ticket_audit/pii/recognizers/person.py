"""Names of people (and places, a quasi-identifier) from a spaCy model's named-entity recognizer.

The model's raw spans need trimming (a trailing newline, a possessive) and rejections:
placeholders of the redacted text, tokens with digits or '@', and the greetings, sign-offs
and courtesy words of the languages tickets are written in. The English model tags "Vielen
Dank", "Grüßen", "Cher" or "Lamentamos" as people when it meets them; so does any model on
a line of its own.
"""

from __future__ import annotations

import re
from typing import ClassVar

from presidio_analyzer.predefined_recognizers import SpacyRecognizer

from ticket_audit.entity_types import NER_ENTITIES

_TRIM = " \t\r\n,.;:!?\"'()[]{}<>|-–—*"
_REJECT_CHARS = re.compile(r"[\d@_<>|/\\=#$%&*+]")
# Whole spans that are not names (lower-case).
_NOT_NAMES = frozenset(
    {
        "hi",
        "hello",
        "dear",
        "hey",
        "thanks",
        "thank you",
        "cheers",
        "regards",
        "team",
        "support",
        "customer",
        "sir",
        "madam",
        "agent",
        "admin",
        "user",
        "mr",
        "mrs",
        "ms",
        "dr",
        "best",
        "kind regards",
        "best regards",
        "jira software",
        "madame",
        "monsieur",
        "mesdames",
        "messieurs",
        "herr",
        "frau",
        "señor",
        "señora",
        "senhor",
        "senhora",
        "jira",
        "confluence",
    }
)
# Words that make a span not a name wherever they stand in it: greetings, sign-offs, pronouns
# and courtesy words of German, French, Spanish, Portuguese, Italian and Dutch tickets.
_NOT_NAME_WORDS = frozenset(
    """
    hallo guten tag morgen abend liebe lieber sehr geehrte geehrter geehrtes vielen
    dank danke grüßen grüsse grüße gruß gruss freundlichen besten beste schöne schönen sie ihr
    ihre ihnen wir uns meine mein kontonummer kundennummer kundin kunde bitte entschuldigung
    mfg lg vg bonjour bonsoir salut cher chère chers cordialement merci
    remerciements salutations bien vous nous votre vos client cliente équipe hola buenos
    buenas días tardes noches estimado estimada estimados querido querida saludos gracias
    muchas atentamente cordiales lamentamos usted ustedes olá bom dia
    boa tarde noite prezado prezada obrigado obrigada atenciosamente cumprimentos
    você agradecemos ciao buongiorno grazie saluti distinti
    gentile egregio hartelijk groet groeten geachte bedankt
    """.split()  # noqa: SIM905
)
# Nouns that open support requests and the labels of their fields in those languages
# ("Besoin d'aide", "Numéro de compte : …", the option 'Garantie et Réparation',
# "Problema con la factura"): the models read a capitalised one as a name or a place.
_SUPPORT_WORDS = frozenset(
    """
    besoin aide problème problèmes numéro facture remboursement garantie réparation commande
    livraison abonnement demande assistance panne erreur hilfe problem probleme fehler
    nummer rechnung rückerstattung garantie reparatur bestellung lieferung anfrage störung
    ayuda problema número factura reembolso garantía reparación pedido envío solicitud
    ajuda número fatura reembolso garantia reparação encomenda entrega solicitação
    paramètres réglages einstellungen configuración ajustes configurações definições
    """.split()  # noqa: SIM905
)
# Products and brands support texts name all the time, which the small models read as
# people or places ("recommended by both Dell and Microsoft", "redémarrez Chrome").
_BRANDS = frozenset(
    """
    dell microsoft cisco canon zoom chrome google amazon apple windows surface iphone ipad
    android samsung lenovo hp adobe oracle salesforce slack jira confluence outlook excel
    teams wi-fi wifi bluetooth tech cloudwatch aws azure linux ubuntu macos firefox safari
    dropbox onedrive sharepoint netflix spotify paypal stripe shopify zendesk sap ios
    """.split()  # noqa: SIM905
)
# French imperatives opening an instruction ("Vérifiez", "Assurez-vous que"): the French
# model tags them as names or places at the start of a numbered step.
_IMPERATIVE = re.compile(r"(?i)^[a-zà-ÿ]+ez(?:-(?:vous|nous|le|la|les|moi))?$")
# Titles before a name: trimmed off the span ("Herr Müller" -> "Müller"), not a reason to drop it.
_TITLES = re.compile(
    r"(?:herr|frau|monsieur|madame|mme|mlle|señor|señora|senhor|senhora|sr|sra|signor|signora|"
    r"sig|mevrouw|meneer|dhr|mr|mrs|ms|miss|dr|prof)\.?\s+",
    re.IGNORECASE,
)


class TicketPersonRecognizer(SpacyRecognizer):
    ENTITY = "PERSON"
    ENTITIES: ClassVar[tuple[str, ...]] = tuple(NER_ENTITIES)
    # NER labels that mean a person in the spaCy models in use (OntoNotes and WikiNER).
    MODEL_LABELS: ClassVar[tuple[str, ...]] = NER_ENTITIES["PERSON"]
    # label -> index into ENTITIES: the third member of a span (start, end, kind).
    KINDS: ClassVar[dict[str, int]] = {
        label: i for i, (_, labels) in enumerate(NER_ENTITIES.items()) for label in labels
    }
    SCORE = 0.85
    # A place named in a ticket is less often the customer's own than a name is.
    LOCATION_SCORE = 0.6
    NAME = "TicketPersonRecognizer"

    def __init__(self, entities: list[str] | None = None) -> None:
        wanted = [e for e in self.ENTITIES if entities is None or e in entities]
        super().__init__(supported_entities=wanted, ner_strength=self.SCORE, name=self.NAME)
        self.kinds = {
            label: k for label, k in self.KINDS.items() if self.ENTITIES[k] in set(wanted)
        }

    def score_of(self, kind: int) -> float:
        return self.SCORE if self.ENTITIES[kind] == "PERSON" else self.LOCATION_SCORE

    def accept(self, text: str, start: int, end: int) -> tuple[int, int] | None:
        """The trimmed span of a model entity, or None when it is not a name."""
        while start < end and text[start] in _TRIM:
            start += 1
        while end > start and text[end - 1] in _TRIM:
            end -= 1
        if text.endswith("'s", start, end) or text.endswith("’s", start, end):
            end -= 2
        title = _TITLES.match(text, start, end)
        if title:
            start = title.end()
        if end - start < 2:
            return None
        value = text[start:end]
        if _REJECT_CHARS.search(value) or "\n" in value:
            return None
        folded = value.casefold()
        if folded in _NOT_NAMES or not any(c.isalpha() for c in value):
            return None
        words = [w.strip(".,'’") for w in folded.split()]
        if any(w in _NOT_NAME_WORDS or w in _BRANDS or w in _SUPPORT_WORDS for w in words):
            return None
        if len(words) == 1 and _IMPERATIVE.match(words[0]):
            return None
        return start, end

    @staticmethod
    def consistent(text: str, found: list) -> list:
        """A "place" spelled like a name the model found in the same text is that person
        ("directed by Wacława Adamska and starring Adamska", "I'm Ján Novák, call me Ján"):
        the model reads a lone surname or first name by its sentence, a ticket's
        conversation names the same person again and again. Findings are `Finding`s."""
        names = {text[f.start : f.end].casefold() for f in found if f.entity_type == "PERSON"}
        if not names or all(f.entity_type == "PERSON" for f in found):
            return found
        names |= {w.strip(".,") for n in names for w in n.split() if len(w.strip(".,")) > 2}
        out = []
        for f in found:
            if f.entity_type == "LOCATION" and text[f.start : f.end].casefold() in names:
                f = f._replace(entity_type="PERSON", score=TicketPersonRecognizer.SCORE)
            out.append(f)
        return out

    def analyze(self, text, entities, nlp_artifacts=None):  # noqa: D102
        results = []
        for r in super().analyze(text, entities, nlp_artifacts):
            span = self.accept(text, r.start, r.end)
            if span is not None:
                r.start, r.end = span
                results.append(r)
        return results

    def results_from_doc(self, doc, text: str | None = None) -> list[tuple[int, int, int]]:
        """Accepted (start, end, kind) spans of a processed spaCy Doc (the fast path); kind
        indexes ENTITIES. `text`: the Doc's text when the caller has it (`Doc.text` joins
        every token again: about a tenth of the NER pass on short sentences)."""
        out = []
        text = doc.text if text is None else text
        for ent in doc.ents:
            kind = self.kinds.get(ent.label_)
            if kind is not None:
                span = self.accept(text, ent.start_char, ent.end_char)
                if span is not None:
                    out.append((*span, kind))
        return out
