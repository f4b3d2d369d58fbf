"""Reply variability: how standardised agent replies are, per category (docs/quality.md).

Every public agent message is reduced to a handful of labels (in polars, streamed from
DuckDB in batches): word count, greeting form ("hi {name}", "dear customer", none), sign-off
form, whether its body (greeting and sign-off removed) is a template, formatting, language
and tone. Only these labels and their aggregates are kept; no reply text is stored.

Variability score (0 = every reply alike, 1 = no two alike), the mean of seven parts:
  length       min(1, coefficient of variation of the word count)
  templating   1 - share of templated replies
  greeting, sign-off, formatting, language, tone
               Gini-Simpson diversity of the label: the probability that two replies
               drawn at random carry different labels.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

import duckdb
import polars as pl
import pyarrow as pa

from ticket_audit.config import AuditConfig
from ticket_audit.quality.tables import ensure_tables
from ticket_audit.quality.text_features import kept_hash_version
from ticket_audit.store import open_store, transaction

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
ALL = "(all)"
UNTAGGED = "(untagged)"
BATCH_ROWS = 250_000
# Part of every reply's body hash: a change to how replies are labelled (or to Polars, whose
# core_hash is kept) relabels them all.
LABELS_VERSION = 2

# Greetings in en/de/fr/es/pt (longest first, so "sehr geehrte damen und herren" wins
# over "sehr geehrte"); matched at the start of the reply, lower-cased.
GREETING_WORDS = tuple(
    sorted(
        (
            # en
            "good morning",
            "good afternoon",
            "good evening",
            "hi",
            "hello",
            "hey",
            "dear",
            "greetings",
            # de
            "hallo",
            "guten tag",
            "guten morgen",
            "guten abend",
            "sehr geehrte",
            "sehr geehrter",
            "sehr geehrte damen und herren",
            "liebe",
            "lieber",
            "moin",
            "servus",
            # fr
            "bonjour",
            "bonsoir",
            "cher",
            "chère",
            "chers",
            "salut",
            "madame",
            "monsieur",
            # es
            "hola",
            "estimado",
            "estimada",
            "estimados",
            "estimadas",
            "buenos días",
            "buenos dias",
            "buenas tardes",
            "buenas noches",
            "querido",
            "querida",
            # pt
            "olá",
            "ola",
            "oi",
            "prezado",
            "prezada",
            "prezados",
            "prezadas",
            "bom dia",
            "boa tarde",
            "boa noite",
            "caro",
            "cara",
            # it
            "ciao",
            "buongiorno",
            "gentile",
        ),
        key=len,
        reverse=True,
    )
)
# Words after a greeting that are not a name (anything else becomes "{name}").
GENERIC_ADDRESSEES = (
    "customer", "valued customer", "team", "there", "all", "sir", "madam", "sir or madam",
    "friend", "user", "client",
    "kunde", "kundin", "damen und herren", "herr", "frau",
    "madame", "monsieur", "madame, monsieur", "madame monsieur", "cliente", "clients",
    "señor", "señora", "senor", "senora", "usuario", "usuaria",
    "senhor", "senhora", "usuário", "usuária", "sr", "sra",
)  # fmt: skip
SIGNOFFS = (
    (
        "regards",
        r"^(best|kind|warm|warmest)? ?regards|^(mit )?(freundlichen|freundliche|viele|beste|"
        r"herzliche) gr(ü|ue)(ß|ss)en?|^mfg([^a-z]|$)|^lg([^a-z]|$)|^(bien )?cordialement|"
        r"^(sinc[eè]res )?salutations|^bien à vous|^(un )?(cordial )?saludos?|^atentamente|"
        r"^cordialmente|^atenciosamente|^(um )?abra[çc]os?|^cumprimentos|^saudações",
    ),
    ("cheers", r"^cheers([^a-z]|$)"),
    (
        "thanks",
        r"^(thanks|thank you|many thanks|danke|vielen dank|merci|gracias|muchas gracias|"
        r"obrigad[oa]|muito obrigad[oa])([^\p{L}]|$)",
    ),
    ("sincerely", r"^(sincerely|yours)([^a-z]|$)"),
    ("signature block", r"(^|\n)-- ?(\n|$)"),
)
# Agents on social media sign with initials: "... ^AB", "... /CD", "... -EF" (a thread's part
# counter may follow: "^MP 2/2").
INITIALS = r"(?:^|\s)[\^/~-] ?\p{Lu}{1,3}(?:\s+[0-9]/[0-9])?\s*$"
# Apologies and positive tone in en/de/fr/es/pt (lower-cased text).
APOLOGY = (
    r"sorry|apolog|unfortunately|regret|entschuldig|bedauer|tut (uns|mir) leid|leider|"
    r"désolé|desole|excus|malheureusement|regrett|lo sentimos|lamenta|disculp|perdón|"
    r"desafortunadamente|desculp|sentimos muito|infelizmente|pedimos perdão"
)
POSITIVE = (
    r"great news|good news|happy to|glad|pleased|delighted|freut|gerne|ravi|heureux|"
    r"heureuse|encantad|con gusto|nos alegra|feliz|com prazer|ficamos felizes"
)
STOPWORDS = {
    "en": ("the", "and", "you", "your", "to", "is", "we", "for", "please", "this", "with"),
    "de": ("der", "die", "das", "und", "sie", "ihr", "ist", "wir", "nicht", "bitte", "mit"),
    "fr": (
        "le",
        "la",
        "les",
        "et",
        "vous",
        "votre",
        "est",
        "nous",
        "pour",
        "merci",
        "avec",
        "des",
        "une",
        "sommes",
        "pas",
        "nos",
    ),
    "es": (
        "el",
        "los",
        "las",
        "y",
        "usted",
        "su",
        "es",
        "nosotros",
        "para",
        "gracias",
        "con",
        "que",
        "por",
        "una",
        "muy",
        "estamos",
        "hemos",
        "sentimos",
        "pedido",
        "cuenta",
    ),
    "it": ("il", "lo", "gli", "e", "lei", "suo", "è", "noi", "per", "grazie", "della"),
    "nl": ("de", "het", "een", "en", "u", "uw", "is", "wij", "voor", "bedankt", "niet"),
    "pt": (
        "o",
        "os",
        "as",
        "e",
        "você",
        "seu",
        "é",
        "nós",
        "para",
        "obrigado",
        "com",
        "não",
        "foi",
        "uma",
        "do",
        "da",
        "em",
        "estamos",
        "obrigada",
        "conta",
        "possível",
    ),
}
LABELS = ("greeting", "signoff", "formatting", "language", "tone")


def languages_of(frame: pl.DataFrame, text: str) -> pl.Series:
    """Language with the most stopword hits; NULL when none hits (very short replies)."""
    padded = frame.select(
        pl.lit(" ")
        + pl.col(text).str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", " ")
        + pl.lit(" ")
    ).to_series()
    scores = {
        code: pl.sum_horizontal(
            [pl.col("padded").str.contains(f" {w} ", literal=True).cast(pl.Int32) for w in words]
        )
        for code, words in STOPWORDS.items()
    }
    top = pl.max_horizontal(list(scores.values()))
    out = pl.when(top == 0).then(pl.lit(None, pl.Utf8))
    for code, score in scores.items():
        out = out.when(score == top).then(pl.lit(code))
    return pl.DataFrame({"padded": padded}).select(out.alias("language")).to_series()


def reply_labels(batch: pl.DataFrame, keep: Sequence[str] = ("category",)) -> pl.DataFrame:
    """Per-reply labels from (body, sampled) and the `keep` columns, in the batch's order;
    the body does not survive."""
    batch = batch.with_row_index("_i")
    # Language detection is the costly label, so only the sampled replies get one.
    sample = batch.filter(pl.col("sampled"))
    languages = sample.select("_i").with_columns(language=languages_of(sample, "body"))
    frame = _with_signoff(_reply_structure(batch.lazy()))
    return (
        frame.with_columns(core=_core_text())
        .select("_i", *keep, *_label_columns())
        .collect()
        .join(languages, on="_i", how="left", maintain_order="left")
        .drop("_i")
    )


def _reply_structure(frame: pl.LazyFrame) -> pl.LazyFrame:
    """The reply's paragraphs, first line, greeting word and addressee, and whether it ends
    with initials."""
    body = pl.col("body").str.replace_all("\r", "", literal=True)
    greet = "|".join(GREETING_WORDS)
    # Paragraphs: blank-line separated; a reply without a blank line (chat, helpdesk exports
    # that keep single new lines) splits on its lines instead.
    blank = r"\n[ \t]*\n\s*"
    paras = (
        pl.when(pl.col("core_body").str.contains(blank))
        .then(pl.col("core_body").str.replace_all(blank, "\x1f"))
        .otherwise(pl.col("core_body").str.replace_all(r"\n\s*", "\x1f"))
        .str.strip_chars()
        .str.split("\x1f")
        .list.eval(pl.element().str.strip_chars().filter(pl.element() != ""))
    )
    return (
        frame.with_columns(body=body)
        .with_columns(initials=pl.col("body").str.contains(INITIALS))
        .with_columns(core_body=pl.col("body").str.replace(INITIALS, ""))
        .with_columns(lb=pl.col("body").str.to_lowercase(), paras=paras)
        .with_columns(
            n_paras=pl.col("paras").list.len().cast(pl.Int32),
            first_line=pl.col("lb").str.extract(r"^([^\n]*)", 1),
            last_para=pl.col("paras").list.last().str.to_lowercase(),
        )
        .with_columns(
            gw=pl.col("first_line").str.extract(rf"^({greet})(?:[^\p{{L}}]|$)", 1).fill_null(""),
        )
        .with_columns(
            has_gw=(pl.col("gw") != "").cast(pl.Int32),
            addressee=pl.col("first_line")
            .str.slice(pl.col("gw").str.len_chars())
            .str.replace(r"[,!.:;]+ *$", "")
            .str.strip_chars(),
        )
    )


def _signoff_in(para: str, paras_used: int) -> pl.Expr:
    """The sign-off in paragraph `para`: a short last paragraph that leaves at least one
    body paragraph, or the one before a short signature line ("Mit freundlichen Grüßen" /
    "Anna")."""
    out = pl.when(
        (pl.col("n_paras") - pl.col("has_gw") < 1 + paras_used)
        | (pl.col(para).str.len_chars() > 120)
    ).then(pl.lit(None, pl.Utf8))
    for name, pattern in SIGNOFFS:
        out = out.when(pl.col(para).str.contains(pattern)).then(pl.lit(name))
    return out.otherwise(pl.lit(None, pl.Utf8))


def _with_signoff(frame: pl.LazyFrame) -> pl.LazyFrame:
    """The reply's sign-off and how many paragraphs it takes."""
    frame = frame.with_columns(
        prev_para=pl.col("paras").list.get(-2, null_on_oob=True).str.to_lowercase()
    ).with_columns(
        in_last=_signoff_in("last_para", 1),
        in_prev=pl.when(pl.col("last_para").str.len_chars() <= 40).then(
            _signoff_in("prev_para", 2)
        ),
    )
    # Initials end the reply itself, so they need no paragraph of their own.
    return frame.with_columns(
        signoff=pl.when(pl.col("initials"))
        .then(pl.lit("initials"))
        .otherwise(pl.coalesce("in_last", "in_prev", pl.lit("none"))),
        signoff_paras=pl.when(
            pl.col("initials") | pl.col("in_last").is_null() & pl.col("in_prev").is_null()
        )
        .then(0)
        .when(pl.col("in_last").is_not_null())
        .then(1)
        .otherwise(2)
        .cast(pl.Int32),
    )


def _core_text() -> pl.Expr:
    """The reply without greeting and sign-off, lower case, digits and spaces folded."""
    # Initials were cut from the text already; other sign-offs are its last paragraph(s).
    return (
        pl.col("paras")
        .list.slice(
            pl.col("has_gw"), pl.col("n_paras") - pl.col("has_gw") - pl.col("signoff_paras")
        )
        .list.join(" ")
        .str.to_lowercase()
        .str.replace_all(r"[0-9]+", "0")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def _label_columns() -> list[pl.Expr | str]:
    """The labels of a reply: length, greeting, sign-off, core text hash, formatting, tone."""
    apology = pl.col("lb").str.contains(APOLOGY)
    positive = pl.col("lb").str.contains(POSITIVE)
    exclamation = pl.col("body").str.contains("!", literal=True)
    return [
        (
            pl.col("body").str.count_matches(" ", literal=True)
            + pl.col("body").str.count_matches("\n", literal=True)
            + 1
        )
        .cast(pl.Int32)
        .alias("words"),
        pl.when(pl.col("gw") == "")
        .then(pl.lit("none"))
        .when(pl.col("addressee") == "")
        .then(pl.col("gw"))
        .when(pl.col("addressee").is_in(GENERIC_ADDRESSEES))
        .then(pl.col("gw") + " " + pl.col("addressee"))
        .otherwise(pl.col("gw") + " {name}")
        .alias("greeting"),
        "signoff",
        pl.when(pl.col("core") != "").then(pl.col("core").hash(seed=3)).alias("core_hash"),
        pl.when(pl.col("body").str.contains(r"(?m)^[ \t]*(?:[-*•]|[0-9]+[.)])[ \t]"))
        .then(pl.lit("bullets"))
        .when(pl.col("lb").str.contains(r"</?(?:p|br|div|ul|li|span)[ />]"))
        .then(pl.lit("html"))
        .when(pl.col("n_paras") - pl.col("has_gw") - pl.col("signoff_paras") > 1)
        .then(pl.lit("paragraphs"))
        .otherwise(pl.lit("single block"))
        .alias("formatting"),
        (
            pl.when(apology)
            .then(pl.lit("apologetic"))
            .when(positive)
            .then(pl.lit("positive"))
            .when(exclamation)
            .then(pl.lit("exclamatory"))
            .otherwise(pl.lit("neutral"))
        ).alias("tone"),
        apology.alias("apology"),
        positive.alias("positive"),
        exclamation.alias("exclamation"),
    ]


def _replies_sql(con: duckdb.DuckDBPyConnection, language_sample: int) -> str:
    """Keys, category, body hash and language-sample flag of every public agent reply."""
    replies = con.execute(
        "SELECT count(*) FROM canonical.messages WHERE author_role = 'agent'"
    ).fetchall()[0][0]
    sample_stride = max(1, -(-replies // language_sample))
    return f"""
        SELECT m.source, m.ticket_id, m.seq, coalesce(t.category, '{UNTAGGED}') AS category,
            hash(m.body, '{kept_hash_version(LABELS_VERSION)}') AS body_hash,
            hash(m.source, m.ticket_id, m.seq) % {sample_stride} = 0 AS sampled
        FROM canonical.messages m
        JOIN canonical.tickets t ON t.source = m.source AND t.ticket_id = m.ticket_id
        WHERE m.author_role = 'agent' AND coalesce(m.is_public, true) AND m.body IS NOT NULL"""


def _diversity(labels: pl.DataFrame, column: str) -> pl.DataFrame:
    """Gini-Simpson diversity and the most common label, per category and overall.

    Counts are sorted before they are summed and ties for the top label go to the last
    label in sort order, so the result does not depend on the order of the replies (a
    re-audit equals an audit from scratch to the last bit)."""
    counts = labels.drop_nulls(column).group_by("category", column).len()
    counts = pl.concat(
        [
            counts,
            counts.group_by(column)
            .agg(pl.col("len").sum())
            .with_columns(category=pl.lit(ALL))
            .select("category", column, "len"),
        ]
    ).sort("category", column)
    return (
        counts.with_columns(p=pl.col("len") / pl.col("len").sum().over("category"))
        .group_by("category", maintain_order=True)
        .agg(
            (1 - (pl.col("p") ** 2).sum()).alias(f"{column}_diversity"),
            pl.col(column).sort_by("len", column).last().alias(f"top_{column}"),
            pl.col("p").max().alias(f"top_{column}_share"),
        )
    )


def summarise(labels: pl.DataFrame, min_share: float, min_count: int) -> pl.DataFrame:
    """One row per category (and '(all)') of reply-style measures and the variability score."""
    total = labels.height
    threshold = max(min_count, min_share * total)
    labels = labels.with_columns(
        templated=pl.col("core_hash").is_not_null() & (pl.len().over("core_hash") >= threshold)
    )
    measures = [
        pl.len().alias("replies"),
        pl.col("words").median().cast(pl.Float64).alias("median_words"),
        pl.col("words").quantile(0.1, "linear").alias("p10_words"),
        pl.col("words").quantile(0.9, "linear").alias("p90_words"),
        (pl.col("words").std(ddof=0) / pl.col("words").mean())
        .fill_nan(0)
        .fill_null(0)
        .alias("length_cv"),
        pl.col("templated").mean().alias("templated_share"),
        (pl.col("greeting") != "none").mean().alias("greeting_share"),
        (pl.col("signoff") != "none").mean().alias("signoff_share"),
        (pl.col("formatting") == "bullets").mean().alias("bullet_share"),
        (pl.col("formatting") == "html").mean().alias("html_share"),
        pl.col("apology").mean().alias("apology_share"),
        pl.col("positive").mean().alias("positive_share"),
        pl.col("exclamation").mean().alias("exclamation_share"),
    ]
    base = pl.concat(
        [
            labels.group_by("category").agg(measures),
            labels.select(measures).with_columns(category=pl.lit(ALL)),
        ],
        how="diagonal",
    )
    out = base
    for column in LABELS:
        out = out.join(_diversity(labels, column), on="category", how="left")
    out = out.with_columns(
        language_mix=1 - pl.col("top_language_share"),
        variability_score=pl.mean_horizontal(
            pl.min_horizontal(pl.col("length_cv"), pl.lit(1.0)),
            1 - pl.col("templated_share"),
            *(pl.col(f"{c}_diversity").fill_null(0) for c in LABELS),
        ),
    )
    return out.sort(pl.col("category") != ALL, "category")


KEYS = ["source", "ticket_id", "seq"]


def run_reply_variability(cfg: AuditConfig, progress: Progress = log.info) -> pl.DataFrame:
    """Compute the table and replace `audit.reply_variability`.

    Labels are kept per reply in `audit.reply_labels` (labels and hashes, no text) with a
    hash of the body they came from: only new or edited replies are read and labelled, and
    replies that joined the language sample get their language. The table is computed from
    every reply's labels, so it equals a run from scratch.
    """
    t0 = time.perf_counter()
    with open_store(cfg.duckdb_path) as con:
        ensure_tables(con)
        known, fresh_in, relang_in = _read_replies(con, cfg.quality.language_sample)
    n_fresh, n_relang = fresh_in.num_rows, relang_in.height
    labels, written, kept = _merge_labels(known, fresh_in, relang_in)
    del known, fresh_in, relang_in
    # Only sampled replies carry a language, as the sample is drawn now.
    table = summarise(
        labels.with_columns(language=pl.when("sampled").then("language")),
        cfg.quality.template_min_share,
        cfg.quality.template_min_count,
    )
    del labels
    with open_store(cfg.duckdb_path) as con:
        ensure_tables(con)
        _write(con, table, written, kept)
    overall = table.filter(pl.col("category") == ALL) if table.height else table
    progress(
        f"reply variability: {int(overall['replies'][0]) if overall.height else 0:,} agent "
        f"replies ({n_fresh:,} new or edited labelled, {n_relang:,} newly sampled for "
        f"language) in {time.perf_counter() - t0:.1f} s"
    )
    return table


def _read_replies(
    con: duckdb.DuckDBPyConnection, language_sample: int
) -> tuple[pl.DataFrame, pa.Table, pl.DataFrame]:
    """(stored labels of unchanged replies, new or edited replies with their body, unchanged
    replies now sampled whose language was never computed, with their body)."""
    con.execute("SET enable_progress_bar = false")
    con.execute("CREATE OR REPLACE TEMP TABLE _replies AS " + _replies_sql(con, language_sample))
    try:
        known = con.sql(
            """SELECT r.category, r.sampled, c.* FROM _replies r
            JOIN audit.reply_labels c USING (source, ticket_id, seq, body_hash)"""
        ).pl()
        fresh_in = con.sql(
            """SELECT r.*, m.body FROM (
                SELECT * FROM _replies r
                ANTI JOIN audit.reply_labels c USING (source, ticket_id, seq, body_hash)) r
            JOIN canonical.messages m USING (source, ticket_id, seq)"""
        ).to_arrow_table()
        relang_in = con.sql(
            """SELECT r.source, r.ticket_id, r.seq, m.body FROM _replies r
            JOIN audit.reply_labels c USING (source, ticket_id, seq, body_hash)
            JOIN canonical.messages m USING (source, ticket_id, seq)
            WHERE r.sampled AND NOT c.language_done"""
        ).pl()
    finally:
        con.execute("DROP TABLE _replies")
    return known, fresh_in, relang_in


def _merge_labels(
    known: pl.DataFrame, fresh_in: pa.Table, relang_in: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(every reply's labels in key order, label rows to write, keys of stored rows kept)."""
    parts = [
        reply_labels(pl.from_arrow(b), keep=[*KEYS, "category", "body_hash", "sampled"])
        for b in fresh_in.to_batches(BATCH_ROWS)
    ]
    columns = known.columns
    fresh = (
        pl.concat(parts).with_columns(language_done=pl.col("sampled")).select(columns)
        if parts
        else known.clear()
    )
    relang = relang_in.select(*KEYS).with_columns(
        language=languages_of(relang_in, "body"), relang=pl.lit(True)
    )
    known = known.join(relang, on=KEYS, how="left", maintain_order="left", suffix="_new")
    relabelled = pl.col("relang").fill_null(False)
    known = known.with_columns(
        language=pl.when(relabelled).then("language_new").otherwise("language"),
        language_done=pl.col("language_done") | relabelled,
    )
    stored = [c for c in columns if c not in ("category", "sampled")]
    written = pl.concat([known.filter(relabelled).select(stored), fresh.select(stored)])
    kept = known.filter(~relabelled).select(*KEYS, "body_hash")
    labels = pl.concat([known.select(columns), fresh]).sort(KEYS)
    return labels, written, kept


def _write(
    con: duckdb.DuckDBPyConnection, table: pl.DataFrame, written: pl.DataFrame, kept: pl.DataFrame
) -> None:
    """Replace the stored labels of changed replies and `audit.reply_variability`."""
    with transaction(con, _kept=kept.to_arrow(), _written=written.to_arrow()):
        con.execute(
            """DELETE FROM audit.reply_labels c WHERE NOT EXISTS (
                SELECT 1 FROM _kept k WHERE k.source = c.source AND k.ticket_id = c.ticket_id
                AND k.seq = c.seq AND k.body_hash = c.body_hash)"""
        )
        cols = ", ".join(written.columns)
        con.execute(f"INSERT INTO audit.reply_labels ({cols}) SELECT {cols} FROM _written")
        con.execute("DROP TABLE IF EXISTS audit.reply_variability")
        if table.height:
            con.register("variability_rows", table.to_arrow())
            con.execute("CREATE TABLE audit.reply_variability AS SELECT * FROM variability_rows")
            con.unregister("variability_rows")
        else:
            con.execute(
                "CREATE TABLE audit.reply_variability (category VARCHAR, replies BIGINT,"
                " variability_score DOUBLE)"
            )
