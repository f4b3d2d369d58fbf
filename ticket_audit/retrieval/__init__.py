"""Retrieval feasibility: can relevant historical tickets come back within the latency bar?"""

from ticket_audit.retrieval.corpus import Corpus, load_corpus, split_holdout
from ticket_audit.retrieval.index import TicketIndex, query_words
from ticket_audit.retrieval.probe import relevance, run_probe, time_queries
from ticket_audit.retrieval.stats import latency_summary, percentile

__all__ = [
    "Corpus",
    "TicketIndex",
    "latency_summary",
    "load_corpus",
    "percentile",
    "query_words",
    "relevance",
    "run_probe",
    "split_holdout",
    "time_queries",
]
