"""Great Expectations Data Docs that open offline (from a USB stick, with no network).

GX's page templates load Bootstrap, jQuery, bootstrap-table, Font Awesome and Vega from
eleven CDN addresses and its logo from S3; offline the index renders unstyled with an empty
table. The same files ship in `reports/vendor/` (from the npm registry, each with its
license; see its README.md). After GX builds the site, `make_offline` copies them into
`data_docs/static/vendor/` and points every page at them by a relative path.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

VENDOR = Path(__file__).parent / "vendor"

# CDN address in GX's templates -> the vendored file (under reports/vendor/).
CDN_FILES = {
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/vega-embed.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "fontawesome/css/all.min.css"
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper.js/popper.min.js"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap/bootstrap.min.js"
    ),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap/bootstrap.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table/bootstrap-table.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table/bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": (
        "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.js"
    ),
    # GX links 1.19.0's stylesheet (minified or not) beside 1.19.1's script: one file serves.
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": (
        "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": (
        "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": "bootstrap-datepicker/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": "bootstrap-datepicker/bootstrap-datepicker.min.css",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": "bootstrap-dark/bootstrap-prefers-dark.min.css",
}
# GX's logo from S3 (an <img> and a CSS background): its own copy ships in static/images.
_LOGO = re.compile(
    r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/"
    r"(?:full_logo_dark|logo-long)\.png(?:\?[^\"')\s]*)?"
)
# Subresource-integrity and CORS attributes: a file:// page cannot satisfy either, and the
# browser then refuses the (local) file.
_SRI = re.compile(r'\s+(?:integrity="[^"]*"|crossorigin="[^"]*")')
# What a page loads by itself: scripts, stylesheets, images, CSS url(); not <a href> links.
_LOADS = re.compile(
    r"<(?:script|img)\b[^>]*\bsrc=\"(https?://[^\"]+)\"|"
    r"<link\b[^>]*\bhref=\"(https?://[^\"]+)\"|"
    r"url\(['\"]?(https?://[^)'\"]+)"
)


def remote_loads(text: str) -> list[str]:
    """Addresses a page or stylesheet would fetch from the network when opened."""
    return [next(g for g in m.groups() if g) for m in _LOADS.finditer(text)]


def _rewrite(text: str, vendor: str, static: str) -> str:
    for url, path in CDN_FILES.items():
        text = text.replace(f'"{url}"', f'"{vendor}/{path}"')
    text = _LOGO.sub(f"{static}/images/logo-long.png", text)
    return _SRI.sub("", text)


def make_offline(docs_dir: str | Path) -> list[str]:
    """Vendors the CDN files into `docs_dir/static/vendor` and rewrites every page and GX
    stylesheet to load them; returns the remote addresses still loaded (none expected)."""
    docs = Path(docs_dir)
    static = docs / "static"
    shutil.copytree(VENDOR, static / "vendor", dirs_exist_ok=True)
    left: set[str] = set()
    for page in [*docs.rglob("*.html"), *static.joinpath("styles").glob("*.css")]:
        up = Path(os.path.relpath(static, page.parent)).as_posix()
        text = page.read_text(encoding="utf-8")
        new = _rewrite(text, f"{up}/vendor", up)
        if new != text:
            page.write_text(new, encoding="utf-8")
        left.update(remote_loads(new))
    if left:
        # A GX upgrade that links a new CDN file: name it, so it can be vendored.
        log.warning("Data Docs still load from the network: %s", ", ".join(sorted(left)))
    return sorted(left)
