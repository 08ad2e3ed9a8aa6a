"""Offline validation of structured e-invoices (EN 16931) against the vendored official artefacts.

`validate_ubl` and `validate_cii` take the XML as bytes and return a `ValidationReport`: every
failed assertion (and successful report) of every layer, each with its rule id (BR-CO-15,
PEPPOL-EN16931-R001, ...), flag, text and location. An invoice may be sent when `report.ok`, that is
when no finding is fatal.

Layers, in order:

- well-formedness (lxml, no DTD, no entities, no network), and the expected root element;
- XML Schema, where the schema is vendored (CII D16B; the UBL 2.1 schema is not in the CEN release);
- the CEN EN 16931 rules (the compiled XSLT 2.0 of the CEN release);
- the Peppol BIS Billing 3.0 rules (the Schematron transpiled once with SchXslt2, XSLT 3.0).

The stylesheets need an XSLT 2.0/3.0 processor: Saxon-HE through `saxonche` (no JVM). Each one is
compiled once per process, on first use (about a second each), and reused; a process that forks
(Celery's prefork pool) compiles its own. Saxon calls are serialised by one lock, so threads may share
the module; a prefork worker has one thread per process anyway. See rules/README.md for the sources.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from lxml import etree

RULES_DIR = Path(__file__).resolve().parent / "rules"

UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CII = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
SVRL = "http://purl.oclc.org/dsdl/svrl"


class Layer(StrEnum):
    XML = "xml"
    SCHEMA = "schema"
    CEN = "cen"
    PEPPOL = "peppol"


class Stylesheet(StrEnum):
    CEN_UBL = "cen/ubl/EN16931-UBL-validation.xslt"
    CEN_CII = "cen/cii/EN16931-CII-validation.xslt"
    PEPPOL_UBL = "peppol/xslt/PEPPOL-EN16931-UBL.xslt"
    PEPPOL_CII = "peppol/xslt/PEPPOL-EN16931-CII.xslt"


CII_SCHEMA = "cen/cii-schema/CII/uncefact/data/standard/CrossIndustryInvoice_100pD16B.xsd"


@dataclass(frozen=True)
class FailedAssertion:
    """One failed assertion (or successful report) of the SVRL output, or an XML or schema error."""

    rule: str  # BR-CO-15, PEPPOL-EN16931-R001, XSD, XML
    flag: str  # "fatal" or "warning" (the rule's own flag; schema and XML errors are fatal)
    text: str
    location: str  # an XPath into the invoice, or "line N" for XML and schema errors
    layer: Layer

    @property
    def is_fatal(self) -> bool:
        # The CEN and Peppol rules only use "fatal" and "warning"; anything but a warning blocks.
        return self.flag not in {"warning", "information"}


@dataclass(frozen=True)
class ValidationReport:
    syntax: str  # "ubl" or "cii"
    layers: tuple[Layer, ...]  # the layers that ran
    failed: tuple[FailedAssertion, ...] = field(default=())

    @property
    def fatal(self) -> tuple[FailedAssertion, ...]:
        return tuple(item for item in self.failed if item.is_fatal)

    @property
    def warnings(self) -> tuple[FailedAssertion, ...]:
        return tuple(item for item in self.failed if not item.is_fatal)

    @property
    def ok(self) -> bool:
        return not self.fatal

    @property
    def rules(self) -> frozenset[str]:
        """The ids of every rule that failed, fatal or not."""
        return frozenset(item.rule for item in self.failed)

    @property
    def fatal_rules(self) -> frozenset[str]:
        return frozenset(item.rule for item in self.fatal)


def validate_ubl(xml: bytes, *, peppol: bool = True) -> ValidationReport:
    """A UBL 2.1 Invoice or CreditNote against the CEN EN 16931 rules and, unless peppol=False,
    the Peppol BIS Billing 3.0 rules (which also require its CustomizationID and ProfileID)."""
    stylesheets = [(Layer.CEN, Stylesheet.CEN_UBL)]
    if peppol:
        stylesheets.append((Layer.PEPPOL, Stylesheet.PEPPOL_UBL))
    return _validate(xml, syntax="ubl", roots={UBL_INVOICE, UBL_CREDIT_NOTE}, schema=None, stylesheets=stylesheets)


def validate_cii(xml: bytes, *, peppol: bool = False) -> ValidationReport:
    """A CII D16B CrossIndustryInvoice against its XML Schema and the CEN EN 16931 rules and, with
    peppol=True, the Peppol BIS Billing 3.0 rules for CII."""
    stylesheets = [(Layer.CEN, Stylesheet.CEN_CII)]
    if peppol:
        stylesheets.append((Layer.PEPPOL, Stylesheet.PEPPOL_CII))
    return _validate(xml, syntax="cii", roots={CII}, schema=CII_SCHEMA, stylesheets=stylesheets)


def warm_up() -> None:
    """Compile every stylesheet and schema now (a worker may call this once after it starts)."""
    for stylesheet in Stylesheet:
        _compiled(stylesheet)
    _schema(CII_SCHEMA)


# --- the layers ---------------------------------------------------------------------------------

_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
    "remove_comments": False,
}


def _validate(
    xml: bytes,
    *,
    syntax: str,
    roots: set[str],
    schema: str | None,
    stylesheets: list[tuple[Layer, Stylesheet]],
) -> ValidationReport:
    layers = [Layer.XML]
    try:
        document = etree.fromstring(xml, etree.XMLParser(**_PARSER_OPTIONS))  # no DTD, entities or network
    except etree.XMLSyntaxError as error:
        return ValidationReport(
            syntax=syntax,
            layers=tuple(layers),
            failed=(_xml_error("XML", f"Not well-formed XML: {error.msg}", error.lineno),),
        )
    namespace = etree.QName(document).namespace
    if namespace not in roots:
        expected = " or ".join(sorted(roots))
        return ValidationReport(
            syntax=syntax,
            layers=tuple(layers),
            failed=(_xml_error("XML", f"The root element {document.tag} is not in the namespace {expected}.", 1),),
        )
    failed: list[FailedAssertion] = []
    if schema is not None:
        layers.append(Layer.SCHEMA)
        failed.extend(_schema_errors(schema, document))
    # Saxon gets the document as text: lxml has already decoded it, whatever its declared encoding.
    text = etree.tostring(document.getroottree(), encoding="unicode")
    for layer, stylesheet in stylesheets:
        layers.append(layer)
        failed.extend(_run(layer, stylesheet, text))
    return ValidationReport(syntax=syntax, layers=tuple(layers), failed=tuple(failed))


def _xml_error(rule: str, text: str, line: int | None, layer: Layer = Layer.XML) -> FailedAssertion:
    return FailedAssertion(rule=rule, flag="fatal", text=text, location=f"line {line or 0}", layer=layer)


def _schema_errors(schema: str, document: etree._Element) -> list[FailedAssertion]:
    validator = _schema(schema)
    with _lock:
        valid = validator.validate(document)
        errors = list(validator.error_log) if not valid else []
    return [_xml_error("XSD", error.message, error.line, Layer.SCHEMA) for error in errors]


def _run(layer: Layer, stylesheet: Stylesheet, text: str) -> list[FailedAssertion]:
    processor, executable = _compiled(stylesheet)
    with _lock:
        try:
            node = processor.parse_xml(xml_text=text)
            svrl = executable.transform_to_string(xdm_node=node)
        except Exception as error:  # noqa: BLE001 (Saxon's dynamic errors have no narrower public class)
            # A rule that cannot be evaluated on this document blocks it rather than letting it through.
            return [
                FailedAssertion(
                    rule=f"{layer.value.upper()}-ERROR",
                    flag="fatal",
                    text=f"The {layer.value} rules could not be evaluated: {error}",
                    location="/",
                    layer=layer,
                )
            ]
    return parse_svrl(svrl.encode("utf-8"), layer=layer)


def parse_svrl(svrl: bytes, *, layer: Layer) -> list[FailedAssertion]:
    """The failed assertions and successful reports of an SVRL document, in document order."""
    root = etree.fromstring(svrl, etree.XMLParser(**_PARSER_OPTIONS))  # our own stylesheet's output
    found = []
    for element in root.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        text = element.findtext(f"{{{SVRL}}}text") or ""
        found.append(
            FailedAssertion(
                rule=element.get("id") or "",
                flag=element.get("flag") or "fatal",
                text=" ".join(text.split()),
                location=element.get("location") or "",
                layer=layer,
            )
        )
    return found


# --- compiled once per process --------------------------------------------------------------------

_lock = threading.RLock()
_cache: dict[Any, Any] = {}
_cache_pid: int | None = None


def _cached(key: Any, build: Callable[[], Any]) -> Any:
    global _cache_pid
    with _lock:
        if _cache_pid != os.getpid():
            # A forked child cannot use its parent's Saxon isolate: start again.
            _cache.clear()
            _cache_pid = os.getpid()
        if key not in _cache:
            _cache[key] = build()
        return _cache[key]


def _processor() -> Any:
    from saxonche import PySaxonProcessor  # the native library loads on first use

    return _cached("processor", lambda: PySaxonProcessor(license=False))


def _compiled(stylesheet: Stylesheet) -> tuple[Any, Any]:
    processor = _processor()

    def build() -> Any:
        compiler = processor.new_xslt30_processor()
        return compiler.compile_stylesheet(stylesheet_file=str(RULES_DIR / stylesheet.value))

    return processor, _cached(stylesheet, build)


def _schema(path: str) -> etree.XMLSchema:
    def build() -> etree.XMLSchema:
        parser = etree.XMLParser(**_PARSER_OPTIONS)
        return etree.XMLSchema(etree.parse(str(RULES_DIR / path), parser))

    result: etree.XMLSchema = _cached(("schema", path), build)
    return result
