"""Peppol participant identifiers and IBANs: format and check digits, as pure functions.

Every validator takes what a person typed, raises Django's `ValidationError` with a translated
message when it is wrong, and otherwise returns the compact form to store and to put in an e-invoice
(spaces, dots and dashes removed, letters upper-case). Forms and serializers call them as field
validators (Django ignores the return value there) or call `validate_participant_id` with the
scheme chosen in another field.

The checks are those of the Peppol BIS Billing 3.0 rules where it has one (PEPPOL-COMMON-R040 GLN,
R041 Norway, R043 Belgium, R049 Sweden), and the published algorithms of the registers otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

_SEPARATORS = re.compile(r"[\s.\-/]+")


def compact(value: str) -> str:
    """The value without spaces, dots, dashes or slashes, upper-case."""
    return _SEPARATORS.sub("", value or "").upper()


def _format_error(name: Promise | str, expected: Promise | str) -> ValidationError:
    return ValidationError(
        _("%(name)s: the expected format is %(format)s."),
        code="invalid_format",
        params={"name": name, "format": expected},
    )


def _check_error(name: Promise | str) -> ValidationError:
    return ValidationError(
        _("%(name)s: the check digits do not match; look for a typo."),
        code="invalid_check_digits",
        params={"name": name},
    )


# --- check digit algorithms -------------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    """Luhn (ISO/IEC 7812-1): doubling every second digit from the right, the sum ends in 0."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def mod97_be_ok(digits: str) -> bool:
    """Belgian enterprise number: the last two digits are 97 minus the first eight modulo 97."""
    return 97 - int(digits[:8]) % 97 == int(digits[8:])


def iso7064_mod11_10_check(digits: str) -> int:
    """The ISO 7064 MOD 11,10 check digit of `digits` (German VAT numbers)."""
    product = 10
    for char in digits:
        total = (int(char) + product) % 10 or 10
        product = (2 * total) % 11
    return (11 - product) % 10


def gs1_check(digits: str) -> int:
    """The GS1 mod 10 check digit of `digits` (weights 3 and 1 from the right)."""
    total = sum(int(char) * (3 if position % 2 == 0 else 1) for position, char in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def mod11_no_check(digits: str) -> int | None:
    """The Norwegian organisation number check digit (weights 3 2 7 6 5 4 3 2); None if there is none."""
    remainder = sum(int(char) * weight for char, weight in zip(digits, (3, 2, 7, 6, 5, 4, 3, 2), strict=True)) % 11
    check = (11 - remainder) % 11
    return None if check == 10 else check


# --- the identifiers --------------------------------------------------------------------------

BE_ENTERPRISE = _("Belgian enterprise number")
BE_VAT = _("Belgian VAT number")
DE_VAT = _("German VAT number")
GLN = _("Global Location Number (GLN)")
NO_ORG = _("Norwegian organisation number")
SE_ORG = _("Swedish organisation number")
FR_SIRET = _("SIRET number")
FR_VAT = _("French VAT number")
IBAN = _("IBAN")


def validate_be_enterprise_number(value: str) -> str:
    """EAS 0208: 10 digits, the first 0 or 1, the last two 97 - (first eight mod 97)."""
    number = compact(value)
    if not re.fullmatch(r"[01][0-9]{9}", number):
        raise _format_error(BE_ENTERPRISE, _("10 digits starting with 0 or 1"))
    if not mod97_be_ok(number):
        raise _check_error(BE_ENTERPRISE)
    return number


def validate_be_vat(value: str) -> str:
    """EAS 9925: BE and the enterprise number (a 9-digit old number gets its leading 0)."""
    number = compact(value)
    if re.fullmatch(r"BE[0-9]{9}", number):
        number = f"BE0{number[2:]}"
    if not re.fullmatch(r"BE[01][0-9]{9}", number):
        raise _format_error(BE_VAT, _("BE followed by 10 digits starting with 0 or 1"))
    if not mod97_be_ok(number[2:]):
        raise _check_error(BE_VAT)
    return number


def validate_de_vat(value: str) -> str:
    """EAS 9930: DE and 9 digits, the last the ISO 7064 MOD 11,10 check digit of the first eight."""
    number = compact(value)
    if not re.fullmatch(r"DE[1-9][0-9]{8}", number):
        raise _format_error(DE_VAT, _("DE followed by 9 digits"))
    if iso7064_mod11_10_check(number[2:10]) != int(number[10]):
        raise _check_error(DE_VAT)
    return number


def validate_gln(value: str) -> str:
    """EAS 0088: 13 digits, the last the GS1 mod 10 check digit."""
    number = compact(value)
    if not re.fullmatch(r"[0-9]{13}", number):
        raise _format_error(GLN, _("13 digits"))
    if gs1_check(number[:12]) != int(number[12]):
        raise _check_error(GLN)
    return number


def validate_no_organisation_number(value: str) -> str:
    """EAS 0192: 9 digits, the last the mod 11 check digit (a number whose check would be 10 does not exist)."""
    number = compact(value)
    if number.startswith("NO") and number.endswith("MVA"):  # the VAT form of the same number
        number = number[2:-3]
    if not re.fullmatch(r"[0-9]{9}", number):
        raise _format_error(NO_ORG, _("9 digits"))
    if mod11_no_check(number[:8]) != int(number[8]):
        raise _check_error(NO_ORG)
    return number


def validate_se_organisation_number(value: str) -> str:
    """EAS 0007: 10 digits (NNNNNN-NNNN), Luhn over all ten."""
    number = compact(value)
    if not re.fullmatch(r"[0-9]{10}", number):
        raise _format_error(SE_ORG, _("10 digits"))
    if not luhn_ok(number):
        raise _check_error(SE_ORG)
    return number


# La Poste's establishments share one SIREN whose SIRETs follow INSEE's exception: digit sum % 5.
_LA_POSTE_SIREN = "356000000"


def validate_fr_siret(value: str) -> str:
    """EAS 0009: 14 digits (SIREN and establishment number), Luhn over all fourteen."""
    number = compact(value)
    if not re.fullmatch(r"[0-9]{14}", number):
        raise _format_error(FR_SIRET, _("14 digits"))
    if number.startswith(_LA_POSTE_SIREN) and number != _LA_POSTE_SIREN + "00048":
        valid = sum(int(char) for char in number) % 5 == 0
    else:
        valid = luhn_ok(number)
    if not valid:
        raise _check_error(FR_SIRET)
    return number


def validate_fr_vat(value: str) -> str:
    """EAS 9957: FR, a two-digit key = (12 + 3 x (SIREN mod 97)) mod 97, and the SIREN (Luhn).

    Keys with letters (issued to some entities) are checked for format and SIREN only."""
    number = compact(value)
    if not re.fullmatch(r"FR[0-9A-HJ-NP-Z]{2}[0-9]{9}", number):
        raise _format_error(FR_VAT, _("FR, two key characters and the 9-digit SIREN"))
    key, siren = number[2:4], number[4:]
    if not luhn_ok(siren) and siren != _LA_POSTE_SIREN:
        raise _check_error(FR_VAT)
    if key.isdigit() and int(key) != (12 + 3 * (int(siren) % 97)) % 97:
        raise _check_error(FR_VAT)
    return number


# IBAN lengths per country (ISO 13616 registry) for the countries the portal's customers are in most;
# an IBAN of another country is checked for its general shape and check digits only.
IBAN_LENGTHS = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
    "EE": 20, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GI": 23, "GL": 18, "GR": 27,
    "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19,
    "SK": 24, "SM": 27, "VA": 22,
}  # fmt: skip


def iban_mod97(iban: str) -> int:
    """ISO 13616 / ISO 7064 MOD 97-10: the country code and check digits moved to the end, letters
    as 10..35; a valid IBAN leaves 1."""
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97


def validate_iban(value: str) -> str:
    """An IBAN (ISO 13616): country code, two check digits, up to 30 letters or digits, mod 97 = 1."""
    iban = compact(value)
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[0-9A-Z]{11,30}", iban):
        raise _format_error(IBAN, _("a country code, 2 check digits and up to 30 letters or digits"))
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        raise ValidationError(
            _("The IBAN length for %(country)s is %(length)s, not %(actual)s."),
            code="invalid_length",
            params={"country": iban[:2], "length": expected, "actual": len(iban)},
        )
    if iban_mod97(iban) != 1:
        raise _check_error(IBAN)
    return iban


# --- the electronic address schemes (EAS) the portal accepts ----------------------------------


def _any_identifier(value: str) -> str:
    """A scheme without a check the portal knows: letters, digits and the usual separators."""
    number = (value or "").strip()
    if not re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z:._\-]{0,49}", number):
        raise ValidationError(
            _("Enter the identifier without spaces: letters, digits and . - _ : only, at most 50 characters."),
            code="invalid_format",
        )
    return number


@dataclass(frozen=True)
class Scheme:
    code: str
    name: Promise
    validate: Callable[[str], str]


# Codes of the Peppol Electronic Address Scheme code list (the `eaid` list of the vendored Peppol rules).
EAS_SCHEMES: dict[str, Scheme] = {
    scheme.code: scheme
    for scheme in (
        Scheme("0002", _("SIRENE (French company register)"), _any_identifier),
        Scheme("0007", SE_ORG, validate_se_organisation_number),
        Scheme("0009", FR_SIRET, validate_fr_siret),
        Scheme("0060", _("D-U-N-S number"), _any_identifier),
        Scheme("0088", GLN, validate_gln),
        Scheme("0106", _("Dutch Chamber of Commerce number (KvK)"), _any_identifier),
        Scheme("0184", _("Danish CVR number"), _any_identifier),
        Scheme("0190", _("Dutch government identification number (OIN)"), _any_identifier),
        Scheme("0192", NO_ORG, validate_no_organisation_number),
        Scheme("0204", _("German Leitweg-ID"), _any_identifier),
        Scheme("0208", BE_ENTERPRISE, validate_be_enterprise_number),
        Scheme("0216", _("Finnish OVT code"), _any_identifier),
        Scheme("9914", _("Austrian VAT number"), _any_identifier),
        Scheme("9920", _("Spanish VAT number"), _any_identifier),
        Scheme("9925", BE_VAT, validate_be_vat),
        Scheme("9930", DE_VAT, validate_de_vat),
        Scheme("9932", _("United Kingdom VAT number"), _any_identifier),
        Scheme("9944", _("Dutch VAT number"), _any_identifier),
        Scheme("9957", FR_VAT, validate_fr_vat),
    )
}


def eas_choices() -> list[tuple[str, Promise]]:
    """(code, name) pairs for a select box, in code order."""
    return [(code, scheme.name) for code, scheme in sorted(EAS_SCHEMES.items())]


def validate_participant_id(scheme: str, value: str) -> str:
    """A Peppol participant identifier (`cbc:EndpointID/@schemeID` and its value)."""
    known = EAS_SCHEMES.get((scheme or "").strip())
    if known is None:
        raise ValidationError(
            _("“%(scheme)s” is not an electronic address scheme the portal accepts."),
            code="unknown_scheme",
            params={"scheme": scheme},
        )
    return known.validate(value)
