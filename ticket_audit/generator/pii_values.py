"""Fake personal data of the kinds customers paste into tickets, with valid check digits.

Each maker returns (value, sentence) where the sentence embeds the value once as `{v}`; the
generator records the value's offsets in the ground truth.
"""

from __future__ import annotations

import random
import string

from ticket_audit.generator.vocabulary import (
    CITIES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    STREET_SUFFIXES,
    STREETS,
)


def luhn_complete(digits: str) -> str:
    """Append the Luhn check digit to a partial card number."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return digits + str((10 - total % 10) % 10)


def iban(rng: random.Random, country: str = "DE") -> str:
    lengths = {"DE": 18, "GB": 18, "FR": 23, "NL": 14}
    if country == "GB":
        bban = "NWBK" + "".join(rng.choices(string.digits, k=14))
    elif country == "NL":
        bban = "ABNA" + "".join(rng.choices(string.digits, k=10))
    else:
        bban = "".join(rng.choices(string.digits, k=lengths[country]))
    rearranged = bban + country + "00"
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    check = 98 - int(numeric) % 97
    return f"{country}{check:02d}{bban}"


def _group(s: str, size: int = 4) -> str:
    return " ".join(s[i : i + size] for i in range(0, len(s), size))


def person_name(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def email(rng: random.Random, first: str, last: str) -> str:
    sep = rng.choice([".", "_", ""])
    return f"{first.lower()}{sep}{last.lower()}{rng.randint(1, 999)}@{rng.choice(EMAIL_DOMAINS)}"


def phone(rng: random.Random) -> str:
    n = rng.randint(0, 9999)
    return rng.choice(
        [
            f"+1 (415) 555-{n:04d}",
            f"+44 20 7946 {n:04d}",
            f"+49 30 9018{n:04d}",
            f"+33 1 42 68 {n // 100:02d} {n % 100:02d}",
            f"(212) 555-{n:04d}",
        ]
    )


def card(rng: random.Random) -> str:
    prefix = rng.choice(["4", "51", "52", "53", "37"])
    length = 15 if prefix == "37" else 16
    body = prefix + "".join(rng.choices(string.digits, k=length - len(prefix) - 1))
    number = luhn_complete(body)
    return rng.choice([_group(number), number, "-".join(_group(number).split())])


def ssn(rng: random.Random) -> str:
    return f"{rng.randint(100, 665)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"


def ip_address(rng: random.Random) -> str:
    return f"{rng.choice([23, 54, 81, 92, 145, 178, 203])}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def street_address(rng: random.Random) -> str:
    city, state, zip_code = rng.choice(CITIES)
    return (
        f"{rng.randint(12, 9800)} {rng.choice(STREETS)} {rng.choice(STREET_SUFFIXES)}, "
        f"{city}, {state} {zip_code}"
    )


def date_of_birth(rng: random.Random) -> str:
    y, m, d = rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice([f"{y}-{m:02d}-{d:02d}", f"{m:02d}/{d:02d}/{y}", f"{d:02d}.{m:02d}.{y}"])


def password(rng: random.Random) -> str:
    core = "".join(rng.choices(string.ascii_letters, k=6))
    return f"{core}{rng.randint(10, 99)}{rng.choice('!#$%&*?')}{rng.choice(string.ascii_lowercase)}"


def api_key(rng: random.Random) -> str:
    alnum = string.ascii_letters + string.digits
    return rng.choice(
        [
            "sk_live_" + "".join(rng.choices(alnum, k=24)),
            "AKIA" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=16)),
        ]
    )


def access_token(rng: random.Random) -> str:
    alnum = string.ascii_letters + string.digits
    return rng.choice(
        [
            "ghp_" + "".join(rng.choices(alnum, k=36)),
            "eyJhbGciOiJIUzI1NiJ9."
            + "".join(rng.choices(alnum, k=30))
            + "."
            + "".join(rng.choices(alnum + "-_", k=22)),
        ]
    )


def account_number(rng: random.Random) -> str:
    return f"ACC-{rng.randint(10_000_000, 99_999_999)}"


def uk_nino(rng: random.Random) -> str:
    letters = "ABCEGHJKLMNPRSTWXYZ"
    return (
        rng.choice(letters)
        + rng.choice(letters)
        + f" {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
        + rng.choice("ABCD")
    )


# entity type -> (maker, sentences). Entity names follow Presidio where Presidio has one.
SENTENCES: dict[str, list[str]] = {
    "EMAIL_ADDRESS": ["You can reach me at {v} if that is easier.", "My login email is {v}."],
    "PHONE_NUMBER": ["Please call me back on {v}.", "My phone number is {v}."],
    "CREDIT_CARD": ["The card I used is {v}.", "It was charged to card number {v}."],
    "IBAN_CODE": ["Please send the refund to IBAN {v}.", "My bank account is {v}."],
    "US_SSN": ["For verification my SSN is {v}.", "Social security number: {v}."],
    "UK_NINO": ["My national insurance number is {v}."],
    "IP_ADDRESS": ["My router's public IP is {v}.", "The requests come from {v}."],
    "STREET_ADDRESS": ["Please ship it to {v}.", "My delivery address is {v}."],
    "DATE_OF_BIRTH": ["My date of birth is {v}.", "DOB: {v}."],
    "PASSWORD": ["My password is {v} if you need to log in.", "I set the password to {v}."],
    "API_KEY": ["Here is our API key: {v}.", "We call the API with key {v}."],
    "ACCESS_TOKEN": ["The access token we use is {v}.", "Authorization: Bearer {v}"],
    "ACCOUNT_NUMBER": ["My account number is {v}.", "Customer account {v}."],
    "PERSON": ["This is {v} writing on behalf of my team.", "Please ask for {v}."],
}


def make_value(entity: str, rng: random.Random) -> str:
    if entity == "EMAIL_ADDRESS":
        return email(rng, *person_name(rng))
    if entity == "PERSON":
        return " ".join(person_name(rng))
    if entity == "IBAN_CODE":
        return iban(rng, rng.choice(["DE", "GB", "FR", "NL"]))
    return {
        "PHONE_NUMBER": phone,
        "CREDIT_CARD": card,
        "US_SSN": ssn,
        "UK_NINO": uk_nino,
        "IP_ADDRESS": ip_address,
        "STREET_ADDRESS": street_address,
        "DATE_OF_BIRTH": date_of_birth,
        "PASSWORD": password,
        "API_KEY": api_key,
        "ACCESS_TOKEN": access_token,
        "ACCOUNT_NUMBER": account_number,
    }[entity](rng)


def pii_sentence(entity: str, rng: random.Random, value: str | None = None) -> tuple[str, int, int]:
    """A sentence carrying one value of `entity`; returns (sentence, start, end) of the value."""
    value = value if value is not None else make_value(entity, rng)
    template = rng.choice(SENTENCES[entity])
    start = template.index("{v}")
    sentence = template.replace("{v}", value)
    return sentence, start, start + len(value)
