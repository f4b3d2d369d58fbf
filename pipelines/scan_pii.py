"""`ticket-audit scan-pii`: wires the command line to the PII layer's file scanner."""

from __future__ import annotations

import argparse
import sys

from ticket_audit.config import load_config
from ticket_audit.config.pii import PiiSection


def scan_pii_command(args: argparse.Namespace) -> int:
    from ticket_audit.pii.scan_file import scan_jsonl

    pii = load_config(args.config).pii if args.config else PiiSection()
    try:
        count = scan_jsonl(
            args.input, args.output, text_field=args.text_field, id_field=args.id_field, config=pii
        )
    except ValueError as exc:
        print(f"ticket-audit scan-pii: {exc}", file=sys.stderr)
        return 2
    print(f"{count} findings written to {args.output}")
    return 0
