"""Transpile the vendored Peppol Schematron files to XSLT with the vendored SchXslt2 1.3.4.

Run from the repository root after replacing a file under peppol/sch/:

    .venv/bin/python billing/einvoicing/rules/transpile.py

It writes peppol/xslt/<name>.xslt for every peppol/sch/<name>.sch and needs no network. It then
checks that every assert and report id of the source appears in the output (a transpiler that drops
a rule would otherwise go unnoticed) and exits 1 if one is missing. The output is committed;
validation never transpiles at run time.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lxml import etree
from saxonche import PySaxonProcessor

RULES = Path(__file__).resolve().parent
TRANSPILER = RULES / "schxslt2" / "transpile.xsl"
SOURCES = RULES / "peppol" / "sch"
TARGETS = RULES / "peppol" / "xslt"
SCH = "http://purl.oclc.org/dsdl/schematron"


def transpile(source: Path, target: Path) -> None:
    processor = PySaxonProcessor(license=False)
    compiler = processor.new_xslt30_processor()
    executable = compiler.compile_stylesheet(stylesheet_file=str(TRANSPILER))
    executable.set_cwd(str(source.parent))
    executable.transform_to_file(source_file=str(source), output_file=str(target))


def missing_rules(source: Path, target: Path) -> list[str]:
    """The ids of the source's asserts and reports that do not appear in the transpiled output."""
    schema = etree.parse(str(source))
    ids = {element.get("id") for element in schema.iter(f"{{{SCH}}}assert", f"{{{SCH}}}report")}
    output = target.read_text(encoding="utf-8")
    return sorted(rule for rule in ids if rule and f'"{rule}"' not in output)


def main() -> int:
    TARGETS.mkdir(exist_ok=True)
    status = 0
    for source in sorted(SOURCES.glob("*.sch")):
        target = TARGETS / f"{source.stem}.xslt"
        transpile(source, target)
        missing = missing_rules(source, target)
        print(f"{source.relative_to(RULES)} -> {target.relative_to(RULES)}")
        if missing:
            print(f"  missing from the output: {', '.join(missing)}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
