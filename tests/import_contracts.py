"""An import-linter contract of our own, used by `.importlinter` (`make test` runs `lint-imports`).

`public_face`: the importers may import a package only through the modules it names as public. It
catches the first import of a new internal module too, which a list of forbidden modules would not.
"""

from importlinter import Contract, ContractCheck, fields, output


class PublicFaceContract(Contract):
    """Options: `package` (e.g. eventstore), `public_modules` (its modules others may import), and
    `importers` (the packages held to them)."""

    package = fields.StringField()
    public_modules = fields.ListField(subfield=fields.StringField())
    importers = fields.ListField(subfield=fields.StringField())

    def check(self, graph, verbose: bool) -> ContractCheck:
        unknown = sorted(set(self.public_modules) - graph.modules)
        violations = sorted(
            (importer, imported, self._lines(graph, importer, imported))
            for importer in self._importing_modules(graph)
            for imported in graph.find_modules_directly_imported_by(importer)
            if self._is_internal(imported)
        )
        return ContractCheck(kept=not violations and not unknown,
                             metadata={"violations": violations, "unknown": unknown})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for module in check.metadata["unknown"]:
            output.print_error(f"{module} is named public but does not exist.")
            output.new_line()
        for importer, imported, lines in check.metadata["violations"]:
            output.print_error(f"{importer} imports {imported} (line {lines}), which is not a public module of "
                               f"{self.package}: use one of its public modules, or make this one public.")
            output.new_line()

    def _importing_modules(self, graph) -> set[str]:
        return {module for root in self.importers for module in {root, *graph.find_descendants(root)}}

    def _is_internal(self, module: str) -> bool:
        inside = module == self.package or module.startswith(f"{self.package}.")
        return inside and module not in self.public_modules

    @staticmethod
    def _lines(graph, importer: str, imported: str) -> str:
        details = graph.get_import_details(importer=importer, imported=imported)
        return ", ".join(str(detail["line_number"]) for detail in details) or "?"
