"""Realistic sample ticket histories with defects planted at known rates.

Used by `ticket-audit demo`, the tests and the benchmarks. Every planted defect and every
planted PII span is recorded in a ground-truth manifest so tests can check the audit's numbers.
"""

from ticket_audit.generator.spec import DEFECTS, GeneratorSpec
from ticket_audit.generator.writer import GeneratedHistory, generate_history

__all__ = ["DEFECTS", "GeneratedHistory", "GeneratorSpec", "generate_history"]
