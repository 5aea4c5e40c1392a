"""The public register's content: what a citizen reads, as JSON, CSV and HTML, in Japanese or English.

Pure functions of reporting's project documents. Only the publications the designated CAIO recorded
(``ProjectPublished``) are ever read here, and of each only its published record, so nothing unpublished and no
internal identity (officer ids, the publishing officer, emails) can reach a public response. A withheld field is
the marker the event carries (its reason, never its value).
"""

from __future__ import annotations

import csv
import html
import io
from typing import Any

from services.registry.contract import PUBLIC_FIELDS, TIER_1_FIELDS, WithholdingReason, is_withheld
from services.reporting.reports import out_of_date
from shared.i18n import N_, Msg, translate

#: Each field's name for people (translated where shown).
FIELD_LABELS: dict[str, str] = {
    "name": N_("Name"),
    "summary": N_("Summary"),
    "ministry": N_("Ministry or agency"),
    "stage": N_("Stage"),
    "contact": N_("Contact"),
    "human_review": N_("Human review of outputs"),
    "description": N_("Description"),
    "business_area": N_("Business area"),
    "nature_of_work": N_("Nature of the work"),
    "users": N_("Users"),
    "data": N_("Data handled"),
    "models": N_("Models"),
    "vendor": N_("Vendor"),
    "chief_ai_officer": N_("Chief AI Officer"),
    "risk_classification": N_("Risk classification"),
    "classification_current": N_("Classification current"),
    "board_advice_recorded": N_("Advisory Board advice recorded"),
    "decision": N_("Decision of the ministry"),
}
REASON_LABELS: dict[str, str] = {
    WithholdingReason.security: N_("security"),
    WithholdingReason.personal_information: N_("personal information"),
    WithholdingReason.commercial_confidentiality: N_("commercial confidentiality"),
    WithholdingReason.law_enforcement: N_("law enforcement"),
    WithholdingReason.other: N_("other"),
}
#: Values of the record's vocabularies, for people.
VALUE_LABELS: dict[str, str] = {
    "planning": N_("planning"),
    "procurement": N_("procurement"),
    "development": N_("development"),
    "operation": N_("operation"),
    "suspended": N_("suspended"),
    "retired": N_("retired"),
    "every_output": N_("staff check every output"),
    "sampled": N_("staff check a sample of outputs"),
    "none": N_("outputs are used without staff checking them"),
    "staff_only": N_("government staff"),
    "public": N_("members of the public"),
    "internal_support": N_("internal support"),
    "public_information": N_("information to the public"),
    "administrative_decisions": N_("administrative decisions"),
    "high": N_("high risk"),
    "not_high": N_("not high risk"),
    "proceed": N_("proceed"),
    "proceed_with_conditions": N_("proceed with conditions"),
    "revise_and_resubmit": N_("revise and resubmit"),
    "discontinue": N_("discontinue"),
}
CSV_COLUMNS: dict[str, str] = {
    "project_id": N_("Project id"),
    "ministry": N_("Ministry or agency"),
    "name": N_("Name"),
    "stage": N_("Stage"),
    "publication": N_("Publication"),
    "published_at": N_("Published at"),
    "out_of_date": N_("Out of date"),
}


def publications(doc: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list(((doc or {}).get("registry") or {}).get("publications") or [])


def _record(record: dict[str, Any], language: str) -> dict[str, Any]:
    shown = {}
    for field in PUBLIC_FIELDS:
        value = record.get(field)
        if is_withheld(value):
            value = {**value, "reason_label": translate(REASON_LABELS[value["reason"]], language)}
        shown[field] = value
    return shown


def version(doc: dict[str, Any], publication: dict[str, Any], language: str) -> dict[str, Any]:
    """One published version as the public register serves it."""
    every = publications(doc)
    return {
        "project_id": doc["project_id"],
        "publication": publication["publication"],
        "published_at": publication["published_at"],
        "latest": publication["publication"] == every[-1]["publication"],
        "out_of_date": out_of_date(doc["registry"]),
        "log": publication["log"],
        "language": language,
        "labels": {field: translate(label, language) for field, label in FIELD_LABELS.items()},
        "record": _record(publication["record"], language),
    }


def project(doc: dict[str, Any], language: str) -> dict[str, Any]:
    """The latest published version and the list of every version."""
    every = publications(doc)
    return {
        **version(doc, every[-1], language),
        "versions": [
            {"publication": p["publication"], "published_at": p["published_at"], "log": p["log"]} for p in every
        ],
    }


def register_item(doc: dict[str, Any]) -> dict[str, Any]:
    latest = publications(doc)[-1]
    record = latest["record"]
    return {
        "project_id": doc["project_id"],
        "ministry": record["ministry"],
        "name": record["name"],
        "stage": record["stage"],
        "publication": latest["publication"],
        "published_at": latest["published_at"],
        "out_of_date": out_of_date(doc["registry"]),
    }


def as_csv(items: list[dict[str, Any]], language: str) -> str:
    """The register's rows; the header row in the language asked for, the values as published."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([translate(label, language) for label in CSV_COLUMNS.values()])
    for item in items:
        writer.writerow([item[column] for column in CSV_COLUMNS])
    return buffer.getvalue()


# -- HTML ----------------------------------------------------------------------------------------------------------

STYLE = (
    "body{font-family:'Noto Sans CJK JP','Noto Sans JP',sans-serif;margin:2em;color:#222;max-width:60em}"
    "table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;"
    "vertical-align:top}th{background:#f3f3f3;width:16em}.withheld{color:#8a4b00}.stale{color:#c0392b}"
)


def _page(language: str, title: str, body: list[str]) -> str:
    return "\n".join(
        [
            "<!doctype html>",
            f'<html lang="{language}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>',
            f"<style>{STYLE}</style></head><body>",
            *body,
            "</body></html>",
        ]
    )


def _value(value: Any, language: str) -> str:
    escape = html.escape
    if is_withheld(value):
        reason = translate(REASON_LABELS[value["reason"]], language)
        text = f": {escape(value['text'])}" if value.get("text") else ""
        shown = translate(Msg("Withheld ({reason}{text})", reason=escape(reason), text=text), language)
        return f'<span class="withheld">{shown}</span>'
    if value is None:
        return translate(N_("not stated"), language)
    if isinstance(value, bool):
        return translate(N_("yes") if value else N_("no"), language)
    if isinstance(value, list):
        return "<br>".join(_value(item, language) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{escape(str(key))}: {_value(item, language)}" for key, item in value.items())
    text = str(value)
    return escape(translate(VALUE_LABELS[text], language) if text in VALUE_LABELS else text)


def project_html(doc: dict[str, Any], shown: dict[str, Any], language: str) -> str:
    """A project's page: the published record, whether it is out of date, its log position and every version."""
    record = shown["record"]
    title = record["name"]

    def rows(fields: tuple[str, ...]) -> str:
        return "".join(
            f"<tr><th>{html.escape(shown['labels'][field])}</th><td>{_value(record[field], language)}</td></tr>"
            for field in fields
        )

    tier_2 = tuple(field for field in PUBLIC_FIELDS if field not in TIER_1_FIELDS)
    published = Msg("Publication {n}, published {at}.", n=shown["publication"], at=shown["published_at"])
    body = [f"<h1>{html.escape(title)}</h1>", f"<p>{html.escape(translate(published, language))}</p>"]
    if shown["out_of_date"]:
        stale = translate(N_("Out of date: the project changed after its last publication."), language)
        body.append(f'<p class="stale"><strong>{stale}</strong></p>')
    log = shown["log"]
    position = Msg("Registry log position {position}, chain hash {hash}.", position=log["position"], hash=log["hash"])
    tier_1_heading = translate(N_("Summary (tier 1)"), language)
    tier_2_heading = translate(N_("Detail (tier 2)"), language)
    versions = translate(N_("Versions"), language)
    body += [
        f"<h2>{tier_1_heading}</h2><table>{rows(TIER_1_FIELDS)}</table>",
        f"<h2>{tier_2_heading}</h2><table>{rows(tier_2)}</table>",
        f"<p><small>{html.escape(translate(position, language))}</small></p>",
        f"<h2>{versions}</h2><ul>",
    ]
    for item in publications(doc):
        entry = Msg("Publication {n}, published {at}.", n=item["publication"], at=item["published_at"])
        label = translate(entry, language)
        href = f"/public/v1/projects/{doc['project_id']}/versions/{item['publication']}"
        body.append(f'<li><a href="{href}">{html.escape(label)}</a></li>')
    body.append("</ul>")
    return _page(language, title, body)


def index_html(items: list[dict[str, Any]], next_url: str | None, language: str) -> str:
    """The register's index page: every published project of this page, with a link to the next page."""
    headings = "".join(f"<th>{html.escape(translate(label, language))}</th>" for label in CSV_COLUMNS.values())
    rows = []
    yes, no = translate(N_("yes"), language), translate(N_("no"), language)
    for item in items:
        href = f"/public/v1/projects/{item['project_id']}.html"
        cells = [
            f'<a href="{href}">{html.escape(item["project_id"])}</a>',
            html.escape(item["ministry"]),
            html.escape(item["name"]),
            _value(item["stage"], language),
            str(item["publication"]),
            html.escape(item["published_at"]),
            f'<span class="stale">{yes}</span>' if item["out_of_date"] else no,
        ]
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    title = translate(N_("Public register of generative AI systems"), language)
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f"<table><thead><tr>{headings}</tr></thead><tbody>{''.join(rows)}</tbody></table>",
    ]
    if next_url:
        next_page = translate(N_("Next page"), language)
        body.append(f'<p><a rel="next" href="{html.escape(next_url)}">{next_page}</a></p>')
    return _page(language, title, body)
