"""Japanese and English: the language of a response, chosen from ``Accept-Language``, and its translator.

Messages are English in the code (the gettext ``msgid``) and Japanese in the catalog
``shared/locale/ja/LC_MESSAGES/aigov.po``, compiled to ``aigov.mo`` beside it; both are committed and
``tests/unit/test_i18n.py`` fails when a message marked in the code has no Japanese translation or the ``.mo``
is not the compilation of the ``.po`` (``python -m shared.i18n compile`` rewrites it).

Marking a message: ``N_("…")`` for a constant translated where it is shown, ``Msg("… {name} …", name=…)`` for a
message with values (it is the English text wherever it is used as a string, and knows how to translate itself;
field names and identifiers go in as values, so they stay as they are). Defaults: JSON and problem responses are
English unless ``Accept-Language`` prefers Japanese; HTML pages are Japanese unless it prefers English.
"""

from __future__ import annotations

import gettext
import sys
from functools import cache
from pathlib import Path
from typing import Any

DOMAIN = "aigov"
LOCALE_DIRECTORY = Path(__file__).parent / "locale"
LANGUAGES = ("en", "ja")
ENGLISH, JAPANESE = LANGUAGES
#: What extraction looks for (``babel.messages.extract`` keywords).
KEYWORDS = {"N_": None, "Msg": (1,)}


def N_(message: str) -> str:  # noqa: N802 (the gettext convention)
    """Mark a constant for extraction; it is translated where it is shown (``translate``)."""
    return message


class Msg(str):
    """A message with values: the English text as a ``str``, plus its ``msgid`` and values to translate it."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, **params: Any) -> Msg:
        text = super().__new__(cls, msgid.format(**params) if params else msgid)
        text.msgid, text.params = msgid, params
        return text

    def translated(self, language: str) -> str:
        template = translator(language).gettext(self.msgid)
        return template.format(**self.params) if self.params else template


def negotiate(header: str | None, default: str = ENGLISH) -> str:
    """The first of ``ja``/``en`` the ``Accept-Language`` header prefers (by q-value, then order), else the
    default. ``ja-JP`` counts as ``ja``; ``*`` and unknown languages choose nothing."""
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        language = tag.strip().lower().split("-")[0]
        if language in LANGUAGES and quality > 0:
            choices.append((-quality, index, language))
    return min(choices)[2] if choices else default


@cache
def translator(language: str) -> gettext.NullTranslations:
    """The catalog of ``language`` (English: the messages as written)."""
    if language == ENGLISH:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIRECTORY, languages=[language])


def translate(text: str, language: str) -> str:
    """``text`` in ``language``: a ``Msg`` translates itself; a constant is looked up as it is (unknown text,
    such as a value typed by a user, is returned unchanged)."""
    if isinstance(text, Msg):
        return text.translated(language)
    return translator(language).gettext(text) if text else text


def compile_catalogs() -> list[Path]:
    """Compile every ``.po`` under ``shared/locale`` to its ``.mo`` (Babel)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po_path in sorted(LOCALE_DIRECTORY.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        with po_path.open("rb") as source:
            catalog = read_po(source)
        with po_path.with_suffix(".mo").open("wb") as target:
            write_mo(target, catalog, use_fuzzy=False)
        written.append(po_path.with_suffix(".mo"))
    return written


if __name__ == "__main__" and sys.argv[1:] == ["compile"]:
    for path in compile_catalogs():
        print(path)
