"""IPv4 and IPv6 addresses; version numbers (`v1.2.3.4`) are not addresses."""

from __future__ import annotations

import ipaddress
import re

from ticket_audit.pii.recognizers.base import TicketPatternRecognizer

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_VERSION_BEFORE = re.compile(r"(?:\bv|\bversion|\bver\.?|\bfirmware|\bbuild|\brelease)\s*$", re.I)


class TicketIpRecognizer(TicketPatternRecognizer):
    ENTITY = "IP_ADDRESS"
    PATTERNS = [
        ("ipv4", rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w])(?!\.\d)", 0.6),
        ("ipv6", r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])", 0.6),
    ]
    CONTEXT = ["ip", "ip address", "ipv4", "ipv6", "address", "server", "router", "host", "from"]
    TRIGGER = r"\d\.\d|[0-9A-Fa-f]:[0-9A-Fa-f]*:"

    def validate_value(self, value: str) -> bool | None:
        if ":" in value:
            if value.count(":") < 2 or sum(c.isalnum() for c in value) < 4:
                return False
            try:
                ipaddress.IPv6Address(value)
            except ValueError:
                return False
        return None

    def invalidate_match(self, text: str, start: int, end: int) -> bool:
        return _VERSION_BEFORE.search(text, max(0, start - 12), start) is not None
