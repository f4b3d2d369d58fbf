"""Street addresses: house number and street (US/UK and European word orders), optional unit,
city, state and postcode, continued over the following short lines of a postal block."""

from __future__ import annotations

import re

from ticket_audit.pii.recognizers.base import TicketPatternRecognizer

# Upper-case initials in Latin, Greek and Cyrillic scripts (stdlib `re` has no \p{Lu}).
_UPPER = "A-ZÀ-ÖØ-ÞΆ-ΫЀ-Я"
_CAP = rf"[{_UPPER}][\w'’.-]*"
_NAME = rf"{_CAP}(?: (?:{_CAP}|de|da|do|dos|das|di|du|des|la|le|del|van|von|der|of|the)){{0,3}}"
_SUFFIX = (
    r"(?i:Street|St|Avenue|Ave|Av|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|"
    r"Pl|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Crescent|Cres|"
    r"Close|Gardens|Walk|Row|Grove|Loop|Pass|Crossroad|Plaza|Alley|Mews|Greens?|Hill|Heights|"
    r"Expressway|Freeway|Pike|Turnpike|Broadway)(?![\w-])\.?"
)
_UNIT = r"(?:,?\s*(?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|Room|Rm|#)\.?\s?#?[\w-]{1,6}){0,2}"
# ", Springfield, IL 62704" / ", London SW1A 1AA" / ", 10115 Berlin" / ", 1012 AB Amsterdam"
_CITY_TAIL = (
    rf"(?:,\s*{_CAP}(?: {_CAP}){{0,3}}"
    r"(?:,?\s+[A-Z]{2}(?:,?\s+\d{5}(?:-\d{4})?)?|,?\s+[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|,?\s+\d{4,5})?"
    rf"|,\s*\d{{4,5}}(?: [A-Z]{{2}})? {_CAP}(?: {_CAP}){{0,2}})?"
)
# European street words that carry the street type as a suffix ("Harjukuja", "Parijsstraat").
_EU_SUFFIX = (
    r"(?:straße|strasse|str\.|weg|gasse|platz|allee|damm|ufer|gade|vej|veien|vegen|"
    r"gata|gatan|vägen|katu|tie|kuja|polku|kaari|laan|straat|plein|kade|dreef|singel|utca|"
    r"braut|stræde|torv|bakken)"
)
# ... or as a word of its own after the name ("Villacher Strasse 89", "Erzsébet tér 19").
_EU_WORD = (
    r"(?i:straße|strasse|str\.|weg|gasse|platz|allee|tér|u\.|utca|út|körút|krt\.|vej|vei|gate|"
    r"gata|laan|straat|kade|katu|tie)"
)
_EU_PREFIX = (
    r"(?:Rue|Avenue|Av\.|Boulevard|Bd|Chemin|Place|Via|Viale|Piazza|Corso|Calle|Avenida|Rua|"
    r"Carrer|Paseo|Plaza|Travessa|ul\.|ulica|Aleja|al\.|Strada|Str\.)"
)
_NUM = r"\d{1,6}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?)?"
# Postal block lines after a street: unit, "CITY", ", ST", "Country 12345", a bare postcode;
# each a whole short line, so a signature or the next sentence is never swallowed.
_CONTINUATION = (
    r"(?:[ \t]*\n[ \t]*>?[ \t]*(?:(?:Apt|Apartment|Suite|Ste|Unit|Flat)\.?\s?[\w-]{1,6}|"
    r",\s?[A-Z]{2}|[A-ZÀ-ÖØ-ÞΆ-ΫЀ-Я][\w'’.-]*(?: [A-ZÀ-ÖØ-ÞΆ-ΫЀ-Я(][\w'’.)-]*){0,3}"
    r"(?:,? \d{3,6})?|\d{3,6})"
    r"[ \t]*(?=\n|$)){0,4}"
)


# Lower-case words a text must contain before each pattern runs (plain substring tests).
_US_WORDS = (
    "street",
    "st",
    "ave",
    "av",
    "road",
    "rd",
    "lane",
    "ln",
    "drive",
    "dr",
    "boulevard",
    "blvd",
    "way",
    "court",
    "ct",
    "place",
    "pl",
    "terrace",
    "ter",
    "circle",
    "cir",
    "parkway",
    "pkwy",
    "highway",
    "hwy",
    "square",
    "sq",
    "trail",
    "trl",
    "crescent",
    "cres",
    "close",
    "gardens",
    "walk",
    "row",
    "grove",
    "loop",
    "pass",
    "crossroad",
    "plaza",
    "alley",
    "mews",
    "green",
    "hill",
    "heights",
    "expressway",
    "freeway",
    "pike",
    "turnpike",
    "broadway",
)
_EU_SUFFIX_WORDS = (
    "straße",
    "strasse",
    "str.",
    "weg",
    "gasse",
    "platz",
    "allee",
    "damm",
    "ufer",
    "gade",
    "vej",
    "veien",
    "vegen",
    "gata",
    "vägen",
    "katu",
    "tie",
    "kuja",
    "polku",
    "kaari",
    "laan",
    "straat",
    "plein",
    "kade",
    "dreef",
    "singel",
    "utca",
    "braut",
    "stræde",
    "torv",
    "bakken",
)
_EU_WORD_WORDS = (
    "straße",
    "strasse",
    "str.",
    "weg",
    "gasse",
    "platz",
    "allee",
    "tér",
    "u.",
    "utca",
    "út",
    "krt.",
    "vej",
    "vei",
    "gate",
    "gata",
    "laan",
    "straat",
    "kade",
    "katu",
    "tie",
)
_EU_PREFIX_WORDS = (
    "rue",
    "avenue",
    "av.",
    "boulevard",
    "bd",
    "chemin",
    "place",
    "via",
    "corso",
    "calle",
    "avenida",
    "rua",
    "carrer",
    "paseo",
    "plaza",
    "travessa",
    "ul.",
    "ulica",
    "aleja",
    "al.",
    "strada",
    "str.",
)
_UNIT_WORDS = ("apt", "apartment", "suite", "ste", "unit", "flat")


class TicketStreetAddressRecognizer(TicketPatternRecognizer):
    ENTITY = "STREET_ADDRESS"
    PATTERNS = [
        (
            "us street",
            rf"(?<![\w-]){_NUM} (?:[NSEW]\.? )?{_NAME} {_SUFFIX}{_UNIT}{_CITY_TAIL}",
            0.6,
            _US_WORDS,
        ),
        (
            "eu suffixed street",
            rf"(?<![\w-])(?:{_NUM} )?[{_UPPER}a-zà-ÿ][\w'’-]{{2,}}{_EU_SUFFIX} {_NUM}\.?{_UNIT}"
            rf"{_CITY_TAIL}",
            0.6,
            _EU_SUFFIX_WORDS,
        ),
        (
            "eu street word",
            rf"(?<![\w-])(?:{_NUM} )?{_CAP}(?: {_CAP})? {_EU_WORD} {_NUM}\.?{_UNIT}{_CITY_TAIL}",
            0.6,
            _EU_WORD_WORDS,
        ),
        (
            "eu prefixed street",
            rf"(?<![\w-])(?:{_NUM},? {_EU_PREFIX} {_NAME}|{_EU_PREFIX} {_NAME} {_NUM})"
            rf"{_UNIT}{_CITY_TAIL}",
            0.5,
            _EU_PREFIX_WORDS,
        ),
        (
            # "20789 Allika 46" is a street only because a unit line follows: postal blocks.
            "street before unit",
            rf"(?<![\w-])(?:{_NUM} )?{_CAP}(?: {_CAP}){{0,2}} {_NUM}\.?"
            r"(?=,?[ \t]*(?:\n[ \t>]*)?(?:Apt|Apartment|Suite|Ste|Unit|Flat)\.?\s?#?\d)"
            rf"{_UNIT}{_CITY_TAIL}",
            0.6,
            _UNIT_WORDS,
        ),
        (
            "po box",
            r"(?<![\w-])(?i:P\.?\s?O\.?\s?Box|Postfach)\s\d{1,6}",
            0.5,
            ("box", "postfach"),
        ),
        (
            "military",
            r"(?<![\w-])(?:(?:PSC|Unit|CMR)\s\d{3,5},?\s+Box\s\d{3,5}|(?:USNS|USNV|USS|USCGC)\s"
            r"[A-Z][a-z]+)\s*\n?\s*(?:APO|FPO|DPO)\s(?:AA|AE|AP)\s\d{5}(?!\d)",
            0.8,
            ("apo ", "fpo ", "dpo "),
        ),
    ]
    CONTEXT = [
        "address",
        "addresses",
        "ship",
        "shipping",
        "deliver",
        "delivery",
        "live",
        "living",
        "moved",
        "located",
        "billing",
        "mail",
        "send",
        "return",
        "street",
        "residence",
    ]
    TRIGGER = r"\d"
    CONTINUATION = _CONTINUATION

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._continuation = re.compile(self.CONTINUATION)

    def raw_matches(
        self, text: str, lowered: str | None = None
    ) -> list[tuple[int, int, float, str]]:
        out = []
        for start, end, score, name in super().raw_matches(text, lowered):
            m = self._continuation.match(text, end)
            if m and m.end() > end:
                end = m.end()
            while end > start and text[end - 1] in " \t\n,.>":
                end -= 1
            out.append((start, end, score, name))
        return out
