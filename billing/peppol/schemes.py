"""Peppol participant identifiers as Storecove names their schemes.

The portal keeps a Peppol identifier as its EAS code (0208, 9930, ...) and value; Storecove's API names
most schemes by country and kind instead ("BE:EN", "DE:VAT"), listed in its documentation's "Receiver
identifiers" / "Peppol participant identifier list" (https://www.storecove.com/docs/, section
"Peppol participant identifier list"). An EAS code without a name there is sent as the code itself,
which Storecove's discovery examples also use (`"scheme": "0106"`, https://www.storecove.com/docs/).
"""

from __future__ import annotations

PEPPOL_SUPERSCHEME = "iso6523-actorid-upis"

# EAS code -> Storecove scheme.
EAS_TO_STORECOVE: dict[str, str] = {
    "0002": "FR:SIRENE", "0007": "SE:ORGNR", "0009": "FR:SIRET", "0037": "FI:OVT", "0060": "DUNS",
    "0088": "GLN", "0106": "NL:KVK", "0151": "AU:ABN", "0183": "CH:UIDB", "0184": "DK:DIGST",
    "0190": "NL:OINO", "0191": "EE:CC", "0192": "NO:ORG", "0195": "SG:UEN", "0196": "IS:KTNR",
    "0198": "DK:ERST", "0199": "LEI", "0200": "LT:LEC", "0201": "IT:CUUO", "0204": "DE:LWID",
    "0208": "BE:EN", "0210": "IT:CF", "0211": "IT:IVA", "0212": "FI:ORG", "0213": "FI:VAT",
    "9910": "HU:VAT", "9914": "AT:VAT", "9915": "AT:GOV", "9920": "ES:VAT", "9922": "AD:VAT",
    "9923": "AL:VAT", "9924": "BA:VAT", "9925": "BE:VAT", "9926": "BG:VAT", "9927": "CH:VAT",
    "9928": "CY:VAT", "9929": "CZ:VAT", "9930": "DE:VAT", "9931": "EE:VAT", "9932": "GB:VAT",
    "9933": "GR:VAT", "9934": "HR:VAT", "9935": "IE:VAT", "9936": "LI:VAT", "9937": "LT:VAT",
    "9938": "LU:VAT", "9939": "LV:VAT", "9940": "MC:VAT", "9941": "ME:VAT", "9942": "MK:VAT",
    "9943": "MT:VAT", "9944": "NL:VAT", "9945": "PL:VAT", "9946": "PT:VAT", "9947": "RO:VAT",
    "9948": "RS:VAT", "9949": "SI:VAT", "9950": "SK:VAT", "9951": "SM:VAT", "9952": "TR:VAT",
    "9953": "VA:VAT", "9957": "FR:VAT", "9959": "US:EIN",
}  # fmt: skip


def storecove_scheme(eas_code: str) -> str:
    """Storecove's name of an EAS scheme, or the code itself when it has none."""
    return EAS_TO_STORECOVE.get(eas_code, eas_code)
