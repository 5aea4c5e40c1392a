"""Japanese and English: every message marked in the code has a Japanese translation, the committed ``.mo`` is
the compilation of the ``.po``, placeholders survive translation, and ``Accept-Language`` is negotiated."""

from __future__ import annotations

import ast
import importlib
import io
import pkgutil
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from shared.errors import Refused
from shared.i18n import DOMAIN, KEYWORDS, LOCALE_DIRECTORY, Msg, negotiate, translate, translator
from shared.problems import Problem

ROOT = Path(__file__).resolve().parents[2]
PO = LOCALE_DIRECTORY / "ja" / "LC_MESSAGES" / f"{DOMAIN}.po"


def marked() -> dict[str, str]:
    """Every message marked with ``N_`` or ``Msg`` in shared/ and services/, with where it is."""
    found: dict[str, str] = {}
    for folder in ("shared", "services"):
        for filename, line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            text = message if isinstance(message, str) else message[0]
            found.setdefault(text, f"{folder}/{filename}:{line}")
    return found


def catalog():  # type: ignore[no-untyped-def]
    with PO.open("rb") as source:
        return read_po(source)


def test_every_marked_message_has_a_japanese_translation() -> None:
    messages, translations = marked(), catalog()
    assert len(messages) > 100
    missing = [
        f"{where}: {text!r}"
        for text, where in sorted(messages.items())
        if not (translations.get(text) and translations.get(text).string and not translations.get(text).fuzzy)
    ]
    assert not missing, "add these to shared/locale/ja/LC_MESSAGES/aigov.po, then `python -m shared.i18n compile`"


def test_the_catalog_holds_no_message_the_code_no_longer_marks() -> None:
    messages = marked()
    unused = [message.id for message in catalog() if message.id and message.id not in messages]
    assert not unused


def test_placeholders_survive_translation() -> None:
    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    wrong = [m.id for m in catalog() if m.id and fields(m.id) != fields(m.string)]
    assert not wrong


def test_the_committed_mo_is_the_compilation_of_the_po() -> None:
    compiled = io.BytesIO()
    write_mo(compiled, catalog(), use_fuzzy=False)
    assert PO.with_suffix(".mo").read_bytes() == compiled.getvalue(), "run `python -m shared.i18n compile`"


@pytest.mark.parametrize(
    ("header", "default", "chosen"),
    [
        (None, "en", "en"),
        (None, "ja", "ja"),
        ("ja", "en", "ja"),
        ("ja-JP,ja;q=0.9", "en", "ja"),
        ("en-US,en;q=0.9,ja;q=0.8", "ja", "en"),
        ("en;q=0.5, ja;q=0.8", "en", "ja"),
        ("fr, de", "ja", "ja"),
        ("ja;q=0", "en", "en"),
        ("ja;q=abc, en", "ja", "en"),
    ],
)
def test_accept_language_is_negotiated(header: str | None, default: str, chosen: str) -> None:
    assert negotiate(header, default) == chosen


def test_a_message_with_values_is_english_text_that_translates_itself_keeping_the_values() -> None:
    message = Msg("No project with id {project_id}.", project_id="p-1")
    assert message == "No project with id p-1." and isinstance(message, str)
    assert translate(message, "ja") == "ID p-1 のプロジェクトはありません。"
    assert translate(message, "en") == "No project with id p-1."
    assert translate("Resource not found", "ja") == "リソースが見つかりません"
    assert translate("typed by a user", "ja") == "typed by a user"


def user_facing_exceptions() -> set[str]:
    """Names of every exception that reaches a client as a problem: the domain's refusals and the problems."""
    for folder in ("shared", "services"):
        for module in pkgutil.walk_packages([str(ROOT / folder)], prefix=f"{folder}."):
            if not module.name.endswith(("__main__", ".cli", "alembic_env")):
                importlib.import_module(module.name)

    def below(kind: type) -> set[type]:
        return {kind}.union(*(below(child) for child in kind.__subclasses__()))

    return {kind.__name__ for kind in below(Refused) | below(Problem)}


def untranslatable_refusals() -> list[str]:
    """Every ``raise`` of a refusal or a problem in shared/ and services/ whose detail a Japanese reader would get
    in English: an f-string (its text cannot be looked up; ``Msg`` carries the values apart) or a constant the
    catalog does not translate."""
    names, ja = user_facing_exceptions(), translator("ja")
    found = []
    for folder in ("shared", "services"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args):
                    continue
                called = node.exc.func
                name = called.id if isinstance(called, ast.Name) else getattr(called, "attr", "")
                detail = node.exc.args[0]
                english = isinstance(detail, ast.JoinedStr) or (
                    isinstance(detail, ast.Constant)
                    and isinstance(detail.value, str)
                    and ja.gettext(detail.value) == detail.value
                )
                if name in names and english:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    return found


def test_every_refusal_and_problem_raised_can_be_answered_in_japanese() -> None:
    """A refusal's detail is what an officer reads to know what to do next; one worded only in English would
    reach a Japanese reader in English although the rest of the problem is Japanese."""
    assert not untranslatable_refusals(), "word these with Msg(…) or N_(…) and translate them in the catalog"
