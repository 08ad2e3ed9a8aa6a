"""Validators of the identifiers a European (EN 16931) e-invoice carries for seller and buyer.

Country codes are ISO 3166-1 alpha-2; an IBAN passes the ISO 13616 mod-97 check; a BIC has the
ISO 9362 shape; a Peppol participant identifier is a scheme of the Peppol Electronic Address Scheme
(EAS) code list and a value. The validators are on the model fields, so the forms, the API serializers
and the services' full_clean() refuse the same things.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from partner_portal import identifiers

# ISO 3166-1 alpha-2, the officially assigned codes.
ISO_3166_ALPHA2 = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV
    BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES
    ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE
    IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY
    MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU
    NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM
    SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE
    VG VI VN VU WF WS YE YT ZA ZM ZW
    """.split()  # noqa: SIM905 - 249 codes read better as a block than as a list of quoted strings
)

# The member states of the European Union (ISO 3166 codes; Greece is GR here, EL only in VAT numbers).
EU_MEMBER_STATES = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip

# The Peppol Electronic Address Scheme (EAS) codes a participant identifier may use (Peppol BIS
# Billing 3.0, code list "Electronic Address Scheme", e.g. 0088 GLN, 0192 Norwegian organisation
# number, 0204 German Leitweg-ID, 0208 Belgian enterprise number, 9930 German VAT number).
PEPPOL_EAS_CODES = (
    "0002", "0007", "0009", "0037", "0060", "0088", "0096", "0097", "0106", "0130", "0135", "0142",
    "0147", "0151", "0154", "0158", "0170", "0177", "0183", "0184", "0188", "0190", "0191", "0192",
    "0193", "0194", "0195", "0196", "0198", "0199", "0200", "0201", "0202", "0203", "0204", "0205",
    "0208", "0209", "0210", "0211", "0212", "0213", "0215", "0216", "0217", "0218", "0221", "0225",
    "0230", "0235", "9901", "9910", "9913", "9914", "9915", "9918", "9919", "9920", "9922", "9923",
    "9924", "9925", "9926", "9927", "9928", "9929", "9930", "9931", "9932", "9933", "9934", "9935",
    "9936", "9937", "9938", "9939", "9940", "9941", "9942", "9943", "9944", "9945", "9946", "9947",
    "9948", "9949", "9950", "9951", "9952", "9953", "9957", "9959",
)  # fmt: skip
PEPPOL_SCHEME_CHOICES = [(code, code) for code in PEPPOL_EAS_CODES]

_BIC = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")


def compact(value: str) -> str:
    """An IBAN or BIC as stored: without spaces, in capitals."""
    return re.sub(r"\s+", "", value).upper()


def validate_country_code(value: str) -> None:
    if value not in ISO_3166_ALPHA2:
        raise ValidationError(
            _("%(value)s is not an ISO 3166 country code: use two capital letters, e.g. DE or FR."),
            code="invalid_country",
            params={"value": value},
        )


def validate_iban(value: str) -> None:
    """The model field's validator: `identifiers.validate_iban` (format, the country's length, mod 97)."""
    identifiers.validate_iban(value)


def validate_bic(value: str) -> None:
    if not _BIC.match(compact(value)):
        raise ValidationError(
            _("A BIC has 8 or 11 characters: bank (4 letters), country (2 letters), location and branch."),
            code="invalid_bic",
        )
