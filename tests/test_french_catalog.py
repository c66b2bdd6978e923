"""The French catalog is complete: every string marked for translation in the code and templates has a
French translation in locale/fr/LC_MESSAGES/django.po, and the strings a finance user reads in our
templates and admin pages are marked. Each failure says how to fix it."""

import os
import re
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.contrib import admin
from django.core.management import call_command
from django.template.base import Lexer, TokenType
from django.utils.functional import Promise

from payments.models import Membership, Organization
from payments.staff import FINANCE_VIEW_PERMISSIONS

ROOT = Path(settings.BASE_DIR)
CATALOG = ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.po"
SOURCES = ("analytics", "config", "eventstore", "payments", "templates")
HOW_TO_FIX = ("To fix: run `make messages` (it extracts every marked string into the catalog), translate each entry "
              "it lists with an empty or fuzzy msgstr in locale/fr/LC_MESSAGES/django.po, and commit the .po "
              "(`make install` compiles it).")


@pytest.mark.needs_tool("xgettext")
def test_every_marked_string_has_a_french_translation(tmp_path, settings):
    """`makemessages` over a copy of the sources, merged into a copy of the committed catalog: a
    string marked since the catalog was last updated comes out untranslated, one whose text changed
    comes out fuzzy."""
    for name in SOURCES:
        shutil.copytree(ROOT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("__pycache__", "histories", "migrations", "*.sql"))
    shutil.copytree(ROOT / "locale", tmp_path / "locale", ignore=shutil.ignore_patterns("*.mo"))
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        call_command("makemessages", locale=["fr"], add_location="file", no_obsolete=True, verbosity=0)
    finally:
        os.chdir(here)
    with open(tmp_path / "locale" / "fr" / "LC_MESSAGES" / "django.po", "rb") as merged:
        catalog = read_po(merged, locale="fr")

    untranslated = [message.id for message in catalog if message.id and not _translated(message)]
    assert not untranslated, (f"{len(untranslated)} strings have no French translation: {untranslated[:20]}. "
                              f"{HOW_TO_FIX}")
    assert len(catalog) > 250, "the catalog should hold the admin's strings"


def _translated(message) -> bool:
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return message.fuzzy is False and all(strings)


# Words a template may show as they are in every language: units, formats and names.
UNTRANSLATED_WORDS = {"UTC", "CSV", "XLSX", "PaymentId"}
_HIDDEN = re.compile(r"<(script|style)\b.*?</\1>", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_READ_ATTRIBUTES = re.compile(r'\b(title|placeholder|alt|aria-label)="([^"]*)"')
_BUTTON_VALUE = re.compile(r'type="(?:submit|button)"[^>]*\bvalue="([^"]*)"'
                           r'|\bvalue="([^"]*)"[^>]*type="(?:submit|button)"')
_ENTITY = re.compile(r"&#?\w+;")


def _unmarked_text(template: Path) -> list[str]:
    """Words a reader sees (text, titles, placeholders, button labels) outside {% translate %} and
    {% blocktranslate %}: the template with every tag and variable as a neutral mark, then the HTML read."""
    parts, inside = [], []
    for token in Lexer(template.read_text()).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0]
            if name in ("blocktranslate", "blocktrans", "comment"):
                inside.append(name)
            elif name in ("endblocktranslate", "endblocktrans", "endcomment") and inside:
                inside.pop()
            parts.append("#")
        elif token.token_type == TokenType.TEXT and not inside:
            parts.append(token.contents)
        else:
            parts.append("#")
    page = _HIDDEN.sub(" ", "".join(parts))
    read = [value for tag in _TAG.findall(page) for _, value in _READ_ATTRIBUTES.findall(tag)]
    # an <input type="submit"> shows its value; a <button> shows its content, its value is what the form sends
    read += [value for tag in _TAG.findall(page) if tag.lower().startswith("<input")
             for pair in _BUTTON_VALUE.findall(tag) for value in pair if value]
    shown = _ENTITY.sub(" ", _TAG.sub(" ", page))
    return [word for text in (shown, *read) for word in re.findall(r"[A-Za-zÀ-ÿ]{2,}", text)
            if word not in UNTRANSLATED_WORDS]


def test_the_strings_of_our_templates_are_marked_for_translation():
    unmarked = {str(path.relative_to(ROOT)): words for path in sorted((ROOT / "templates").rglob("*.html"))
                if (words := _unmarked_text(path))}
    assert not unmarked, (f"Text outside {{% translate %}} or {{% blocktranslate %}}: {unmarked}. Wrap it (load i18n). "
                          f"{HOW_TO_FIX}")


FINANCE_MODELS = [admin.site._registry[model] for model in admin.site._registry
                  if (model._meta.app_label, model._meta.model_name) in FINANCE_VIEW_PERMISSIONS
                  or model in (Organization, Membership)]


@pytest.mark.parametrize("model_admin", FINANCE_MODELS, ids=lambda each: each.model._meta.label)
def test_the_labels_of_the_finance_admin_pages_are_marked_for_translation(model_admin):
    """What the lists show: the model's names, its columns and filters, the search help."""
    meta = model_admin.model._meta
    labels = {"verbose_name": meta.verbose_name, "verbose_name_plural": meta.verbose_name_plural}
    for column in (*model_admin.list_display, *(f for f in model_admin.list_filter if isinstance(f, str))):
        attribute = getattr(model_admin, column, None) if isinstance(column, str) else column
        if attribute is not None and hasattr(attribute, "short_description"):
            labels[column] = attribute.short_description
        elif isinstance(column, str) and column != "__str__":
            field = meta.get_field(column)
            if field.auto_created:  # Django's "ID", the same in French
                continue
            labels[column] = field.verbose_name
            if field.help_text:
                labels[f"{column} help"] = field.help_text
    for each in model_admin.list_filter:
        if isinstance(each, tuple) and getattr(each[1], "title", None):
            labels[f"filter {each[0]}"] = each[1].title
    if model_admin.search_help_text:
        labels["search_help_text"] = model_admin.search_help_text
    unmarked = {name: str(text) for name, text in labels.items() if not isinstance(text, Promise)}
    assert not unmarked, (f"{meta.label}: not marked for translation: {unmarked}. Give each a gettext_lazy text "
                          f"(verbose_name=_(...), @admin.display(description=_(...))). {HOW_TO_FIX}")
