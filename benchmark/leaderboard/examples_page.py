"""One HTML page per attack record: its examples, swapped words highlighted, filterable and sortable.

`infobench leaderboard` writes results/examples/<record id>.html for every attack record with a
per-example log and links each of the record's cells in leaderboard.html to it. Like the
leaderboard page it loads nothing (inline CSS and JS) and has no clock or path in it. Every
text from the log is HTML-escaped: a perturbed hypothesis may hold anything an attack wrote.

Filters: `?result=<successful|failed|skipped>&flag=<flagged|unflagged|FLAG>` in the URL sets them
on load (the selects keep the URL in step); `#sort=examples:<column key>:<asc|desc>` sorts, as
on the leaderboard page, whose sorting script this page reuses.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from urllib.parse import quote

from benchmark.leaderboard.render import _CSS as LEADERBOARD_CSS, _JS as SORT_JS
from benchmark.leaderboard.validity_column import VALIDITY_FILTERED, checked_entries

log = logging.getLogger(__name__)

FOLDER = "examples"
RESULTS = ("successful", "failed", "skipped")
# (key, header, unit): unit "number" sorts numerically, "text" as text.
COLUMNS = (("index", "#", "number"), ("result", "result", "text"), ("label", "gold", "text"),
           ("prediction", "prediction", "text"), ("perturbed_prediction", "after attack", "text"),
           ("hypothesis", "hypothesis", "text"), ("perturbed_hypothesis", "perturbed hypothesis", "text"),
           ("flags", "flags", "text"), ("swaps", "swaps", "text"), ("premise", "premise", "text"),
           ("queries", "queries", "number"), ("words_perturbed_pct", "pert%", "number"),
           ("similarity", "similarity", "number"))
WRAPPED = ("hypothesis", "perturbed_hypothesis", "premise", "swaps")

_CSS = LEADERBOARD_CSS + """
table.measured td.text { min-width: 12em; max-width: 26em; white-space: normal; }
table.measured td.flagged { white-space: normal; max-width: 12em; }
mark.original { background: #f8c9c4; }
mark.substitute { background: #c6ecc6; }
td.flagged { color: #a40000; font-weight: bold; }
form { margin: 1em 0; }
form label { margin-right: 1.5em; }
"""

# Filtering: rows carry data-result and data-flags; the selects hide the rows that do not match.
# "?result=...&flag=..." sets the selects on load, and a change writes them back to the URL.
_FILTER_JS = """
var resultSelect = document.getElementById("filter-result"), flagSelect = document.getElementById("filter-flag");
function rowMatches(row) {
  var result = resultSelect.value, flag = flagSelect.value, flags = row.getAttribute("data-flags");
  if (result && row.getAttribute("data-result") !== result) return false;
  if (!flag) return true;
  if (flag === "flagged") return flags !== null && flags !== "";
  if (flag === "unflagged") return flags === "";
  return flags !== null && flags.split(" ").indexOf(flag) >= 0;
}
function applyFilters() {
  var rows = document.getElementById("table-examples").tBodies[0].rows, shown = 0;
  Array.prototype.forEach.call(rows, function (row) {
    row.hidden = !rowMatches(row);
    if (!row.hidden) shown += 1;
  });
  document.getElementById("shown-count").textContent = shown + " of " + rows.length + " examples shown";
}
function filtersFromUrl() {
  var params = new URLSearchParams(location.search);
  [[resultSelect, "result"], [flagSelect, "flag"]].forEach(function (pair) {
    var wanted = params.get(pair[1]) || "";
    if (Array.prototype.some.call(pair[0].options, function (o) { return o.value === wanted; })) pair[0].value = wanted;
  });
  applyFilters();
}
function filtersToUrl() {
  var params = new URLSearchParams();
  if (resultSelect.value) params.set("result", resultSelect.value);
  if (flagSelect.value) params.set("flag", flagSelect.value);
  var query = params.toString();
  history.replaceState(null, "", location.pathname + (query ? "?" + query : "") + location.hash);
}
[resultSelect, flagSelect].forEach(function (select) {
  select.addEventListener("change", function () { applyFilters(); try { filtersToUrl(); } catch (e) {} });
});
filtersFromUrl();
"""


def page_link(record_id: str) -> str:
    """Where a record's page lies, relative to the leaderboard page."""
    return f"{FOLDER}/{quote(record_id)}.html"


def write_examples_pages(records: list[dict], out: Path, prune: bool) -> dict[str, str]:
    """One page per attack record with a log under out/examples/; record id -> link from out/.
    `prune` removes pages of records no longer on the board (a filtered run keeps them)."""
    from benchmark.core.atomic import atomic_write_text

    folder = Path(out) / FOLDER
    links = {}
    for record in sorted((r for r in records if r["kind"] == "attack"), key=lambda r: r["record_id"]):
        entries = checked_entries(record)
        if entries is None:
            log.info("%s has no per-example log: no examples page", record["record_id"])
            continue
        atomic_write_text(folder / f"{record['record_id']}.html", examples_page(record, entries))
        links[record["record_id"]] = page_link(record["record_id"])
    if prune and folder.is_dir():
        for stale in sorted(folder.glob("*.html")):
            if stale.stem not in links:
                log.info("removing %s: its record is no longer on the leaderboard", stale)
                stale.unlink()
    return links


def link_attack_cells(tables, links: dict[str, str]) -> None:
    """Point every attack cell (`recipe@dataset.metric`, columns other modules add included) at its
    record's page; a seed-merged row's cells point at the single-seed table, whose cells link to
    each seed's page."""
    from benchmark.leaderboard.stats import CellStats

    for table in tables:
        for part in (table, table.single_seeds):
            if part is None:
                continue
            hrefs = {}  # (row, "recipe@dataset") -> link, from the cells that know their record
            for (position, key), stats in part.cells.items():
                if "@" in key and stats.extra.get("record_id") in links:
                    hrefs[(position, key.rsplit(".", 1)[0])] = links[stats.extra["record_id"]]
                elif "@" in key and stats.seeds is not None and table.single_seeds is not None:
                    hrefs[(position, key.rsplit(".", 1)[0])] = f"#seeds-{table.slug}"
            for column in part.columns:
                for position in range(len(part.frame)):
                    href = hrefs.get((position, column.key.rsplit(".", 1)[0])) if "@" in column.key else None
                    if href is not None:
                        part.cells.setdefault((position, column.key), CellStats()).extra["href"] = href


def examples_page(record: dict, entries: list[dict]) -> str:
    """The page of one attack record, from its log entries with validity (see checked_entries)."""
    from benchmark.metrics.validity import FLAGS

    e = html.escape
    title = f"{record['checkpoint']['model_id']} · {record['evaluation']['recipe']['name']} · " \
            f"{record['evaluation']['dataset']}"
    results = list(RESULTS) + sorted({x["result"] for x in entries} - set(RESULTS))
    result_options = "".join(f'<option value="{e(r)}">{e(r)}</option>' for r in results)
    flag_options = "".join(f'<option value="{e(f)}">{e(f)}</option>' for f in FLAGS)
    head = "".join(f'<th data-key="{key}">{e(header)}</th>' for key, header, _ in COLUMNS)
    rows = "\n".join(_row(position, entry) for position, entry in enumerate(entries))
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             f"<title>examples: {e(record['record_id'])}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
             '<p><a href="../leaderboard.html">&larr; leaderboard</a></p>', f"<h1>{e(title)}</h1>",
             _summary(record, entries),
             '<form id="filters"><label>result <select id="filter-result"><option value="">all</option>'
             f"{result_options}</select></label>"
             '<label>validity <select id="filter-flag"><option value="">any</option>'
             '<option value="flagged">flagged (any flag)</option>'
             f'<option value="unflagged">successful, no flag</option>{flag_options}</select></label>'
             f'<span id="shown-count">{len(entries)} of {len(entries)} examples shown</span></form>',
             f'<table id="table-examples" class="measured"><thead><tr>{head}</tr></thead>'
             f"<tbody>\n{rows}\n</tbody></table>",
             f"<script>{SORT_JS}{_FILTER_JS}</script>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _summary(record: dict, entries: list[dict]) -> str:
    e = html.escape
    counts = {r: sum(x["result"] == r for x in entries) for r in RESULTS}
    metrics = record["metrics"]
    aua, filtered = metrics.get("accuracy_under_attack"), metrics.get(VALIDITY_FILTERED)
    computed_now = any(x["validity_computed_now"] for x in entries)
    figures = [f"record <code>{e(record['record_id'])}</code>", f"{len(entries)} examples",
               ", ".join(f"{counts[r]} {r}" for r in RESULTS)]
    if aua is not None:
        figures.append(f"AuA {aua * 100:.1f}%")
    if filtered is not None:
        figures.append(f"AuA validity-filtered {filtered * 100:.1f}% (flagged successes count as failed attacks)")
    note = ("Validity flags computed now: this log was written before the flags existed. "
            if computed_now else "")
    return (f"<p>{'; '.join(figures)}.</p><p>{note}Highlighted: the words the attack swapped "
            "(red in the hypothesis, green in the perturbed text). Flags are cheap offline proxies "
            "(docs/validity.md), not judgements. Click a column header to sort.</p>")


def _row(position: int, entry: dict) -> str:
    from benchmark.metrics.validity import swapped_words

    validity = entry["validity"]
    perturbed = entry.get("perturbed_hypothesis") if entry["result"] != "skipped" else None
    swaps = swapped_words(entry["hypothesis"], perturbed) if perturbed is not None else []
    flags = " ".join(validity["flags"]) if validity else None
    values = {key: entry.get(key) for key, _, _ in COLUMNS}
    values.update(flags=flags, swaps="; ".join(f"{a or '∅'} → {b or '∅'}" for a, b in validity["swaps"])
                  if validity else None)
    shown = {"hypothesis": _marked(entry["hypothesis"], {s["at"] for s in swaps}, "original"),
             "perturbed_hypothesis": _marked(perturbed, {s["at_perturbed"] for s in swaps}, "substitute")}
    cells = "".join(_cell(key, unit, values[key], shown.get(key)) for key, _, unit in COLUMNS)
    flag_attribute = "" if flags is None else f' data-flags="{html.escape(flags)}"'
    return (f'<tr data-index="{position}" data-result="{html.escape(entry["result"])}"{flag_attribute}>'
            f"{cells}</tr>")


def _marked(text: str | None, positions: set, side: str) -> str | None:
    from benchmark.metrics.validity import marked_pieces

    if text is None:
        return None
    return "".join(f'<mark class="{side}">{html.escape(piece)}</mark>' if marked else html.escape(piece)
                   for piece, marked in marked_pieces(text, positions))


def _cell(key: str, unit: str, value, shown: str | None) -> str:
    if value is None:
        return '<td data-value=""></td>'
    if unit == "number":
        text = f"{value:.3f}" if key == "similarity" else f"{value:.1f}" if isinstance(value, float) else str(value)
        return f'<td class="num" data-value="{html.escape(repr(value))}">{html.escape(text)}</td>'
    css = ' class="text"' if key in WRAPPED else \
        ' class="flagged"' if key == "flags" else ""
    return (f'<td{css} data-value="{html.escape(str(value))}">'
            f"{shown if shown is not None else html.escape(str(value))}</td>")
