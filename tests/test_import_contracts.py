"""The `public_face` contract that `.importlinter` holds the apps to (tests/import_contracts.py)."""

import grimp
import pytest

from tests.import_contracts import PublicFaceContract

PUBLIC = ["store.selectors", "store.api.events"]


def contract() -> PublicFaceContract:
    return PublicFaceContract(name="public face", session_options={}, contract_options={
        "package": "store", "public_modules": PUBLIC, "importers": ["app"]})


def graph(*imports: tuple[str, str]) -> grimp.ImportGraph:
    built = grimp.ImportGraph()
    for module in ["store", "store.selectors", "store.api", "store.api.events", "store.ledger", "store.ledger.merkle",
                   "app", "app.views", "other"]:
        built.add_module(module)
    for line, (importer, imported) in enumerate(imports, start=1):
        built.add_import(importer=importer, imported=imported, line_number=line, line_contents=f"import {imported}")
    return built


def test_public_modules_may_be_imported():
    check = contract().check(graph(("app.views", "store.selectors"), ("app", "store.api.events")), verbose=False)
    assert check.kept


@pytest.mark.parametrize("internal", ["store.ledger.merkle", "store.ledger", "store"])
def test_any_other_module_of_the_package_is_refused_with_its_line(internal):
    check = contract().check(graph(("app.views", "store.selectors"), ("app.views", internal)), verbose=False)
    assert not check.kept
    assert check.metadata["violations"] == [("app.views", internal, "2")]


def test_the_package_itself_and_other_importers_are_not_held():
    check = contract().check(graph(("store.selectors", "store.ledger.merkle"), ("other", "store.ledger")), verbose=False)
    assert check.kept


def test_a_public_module_that_does_not_exist_breaks_the_contract():
    contract_with_typo = PublicFaceContract(name="typo", session_options={}, contract_options={
        "package": "store", "public_modules": [*PUBLIC, "store.selector"], "importers": ["app"]})
    check = contract_with_typo.check(graph(), verbose=False)
    assert not check.kept and check.metadata["unknown"] == ["store.selector"]
