"""Participant identifiers and IBANs: what a person types is refused with a clear message when the
format or the check digits are wrong, and stored in its compact form otherwise."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from billing.einvoicing.validation import RULES_DIR, validate_ubl
from partner_portal import identifiers
from partner_portal.identifiers import (
    validate_be_enterprise_number,
    validate_be_vat,
    validate_de_vat,
    validate_fr_siret,
    validate_fr_vat,
    validate_gln,
    validate_iban,
    validate_no_organisation_number,
    validate_participant_id,
    validate_se_organisation_number,
)

EXAMPLES = Path(__file__).parent / "examples"

# Published valid numbers (registers' and python-stdnum's documentation, the IBAN registry's examples).
VALID = [
    (validate_be_enterprise_number, "0403.170.701", "0403170701"),
    (validate_be_enterprise_number, "0477 472 701", "0477472701"),
    (validate_be_vat, "BE 0403.170.701", "BE0403170701"),
    (validate_be_vat, "be403170701", "BE0403170701"),
    (validate_de_vat, "DE 136 695 976", "DE136695976"),
    (validate_gln, "7350039110021", "7350039110021"),
    (validate_gln, "5790000435975", "5790000435975"),
    (validate_no_organisation_number, "974 760 673", "974760673"),
    (validate_no_organisation_number, "NO 974 760 673 MVA", "974760673"),
    (validate_se_organisation_number, "556016-0680", "5560160680"),
    (validate_fr_siret, "732 829 320 00074", "73282932000074"),
    (validate_fr_siret, "356 000 000 49837", "35600000049837"),  # La Poste: digit sum, not Luhn
    (validate_fr_vat, "FR 40 303 265 045", "FR40303265045"),
    (validate_iban, "GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"),
    (validate_iban, "de89 3704 0044 0532 0130 00", "DE89370400440532013000"),
    (validate_iban, "BE68539007547034", "BE68539007547034"),
    (validate_iban, "NO9386011117947", "NO9386011117947"),
    (validate_iban, "MT84MALT011000012345MTLCAST001S", "MT84MALT011000012345MTLCAST001S"),
]


@pytest.mark.parametrize(("validate", "typed", "stored"), VALID)
def test_valid_numbers_are_accepted_in_their_compact_form(validate, typed, stored):
    assert validate(typed) == stored


# One digit changed in each valid number above: the check must notice.
WRONG_CHECK = [
    (validate_be_enterprise_number, "0403170702"),
    (validate_be_vat, "BE0403170711"),
    (validate_de_vat, "DE136695975"),
    (validate_gln, "7350039110022"),
    (validate_no_organisation_number, "974760672"),
    (validate_se_organisation_number, "5560160681"),
    (validate_se_organisation_number, "9876543210"),  # the placeholder of the CEN test files
    (validate_fr_siret, "73282932000075"),
    (validate_fr_siret, "35600000049836"),
    (validate_fr_vat, "FR41303265045"),
    (validate_fr_vat, "FR40303265046"),  # the key matches nothing and the SIREN fails Luhn
    (validate_iban, "GB82WEST12345698765433"),
    (validate_iban, "DE88370400440532013000"),
]


@pytest.mark.parametrize(("validate", "typed"), WRONG_CHECK)
def test_a_wrong_check_digit_is_refused(validate, typed):
    with pytest.raises(ValidationError) as refused:
        validate(typed)

    assert refused.value.code == "invalid_check_digits"
    assert "check digits do not match" in refused.value.messages[0]


WRONG_FORMAT = [
    (validate_be_enterprise_number, "2403170701"),  # starts with 2
    (validate_be_enterprise_number, "040317070"),
    (validate_be_vat, "NL0403170701"),
    (validate_de_vat, "DE12345678"),
    (validate_de_vat, "DE036695976"),  # no German VAT number starts with 0
    (validate_gln, "735003911002"),
    (validate_no_organisation_number, "97476067A"),
    (validate_se_organisation_number, "55601606800"),
    (validate_fr_siret, "7328293200007"),
    (validate_fr_vat, "FRIO303265045"),  # I and O are not key characters
    (validate_iban, "GB82"),
    (validate_iban, "1282WEST12345698765432"),
    (validate_iban, ""),
]


@pytest.mark.parametrize(("validate", "typed"), WRONG_FORMAT)
def test_a_wrong_format_is_refused_with_the_expected_format(validate, typed):
    with pytest.raises(ValidationError) as refused:
        validate(typed)

    assert refused.value.code == "invalid_format"
    assert "the expected format is" in refused.value.messages[0]


def test_an_iban_of_the_wrong_length_for_its_country_says_so():
    with pytest.raises(ValidationError) as refused:
        validate_iban("DE8937040044053201300")  # 21 characters, Germany has 22

    assert refused.value.code == "invalid_length"
    assert refused.value.messages == ["The IBAN length for DE is 22, not 21."]


def test_an_iban_of_a_country_without_a_known_length_is_checked_by_its_digits():
    assert validate_iban("BR15 0000 0000 0000 1093 2840 814P2") == "BR1500000000000010932840814P2"
    with pytest.raises(ValidationError):
        validate_iban("BR16 0000 0000 0000 1093 2840 814P2")


def test_messages_are_translated_to_russian():
    with pytest.raises(ValidationError) as refused:
        validate_de_vat("DE136695975")

    with translation.override("ru"):  # messages are lazy: read in the language of the request
        assert refused.value.messages == [
            "Номер плательщика НДС (Германия): контрольные цифры не сходятся; проверьте, нет ли опечатки."
        ]
        with pytest.raises(ValidationError) as refused_format:
            validate_iban("GB82")
        assert refused_format.value.messages == [
            "IBAN: ожидаемый формат — код страны, 2 контрольные цифры и до 30 букв или цифр."
        ]


# --- the schemes --------------------------------------------------------------------------------


def test_a_participant_id_is_checked_by_its_scheme():
    assert validate_participant_id("0208", "0403.170.701") == "0403170701"
    assert validate_participant_id("0106", "12345678") == "12345678"
    with pytest.raises(ValidationError) as refused:
        validate_participant_id("0088", "7350039110022")
    assert refused.value.code == "invalid_check_digits"


def test_an_unknown_scheme_is_refused():
    with pytest.raises(ValidationError) as refused:
        validate_participant_id("9999", "123")

    assert refused.value.code == "unknown_scheme"
    assert refused.value.messages == ["“9999” is not an electronic address scheme the portal accepts."]


def test_a_scheme_without_a_check_still_refuses_spaces_and_symbols():
    with pytest.raises(ValidationError) as refused:
        validate_participant_id("0106", "12 34 <script>")

    assert refused.value.code == "invalid_format"


def test_every_accepted_scheme_is_in_the_peppol_code_list():
    source = (RULES_DIR / "peppol" / "sch" / "PEPPOL-EN16931-UBL.sch").read_text(encoding="utf-8")
    eaid = re.search(r'<let name="eaid" value="tokenize\(\'([0-9 ]+)\'', source)
    assert eaid is not None
    peppol_codes = set(eaid.group(1).split())

    assert set(identifiers.EAS_SCHEMES) <= peppol_codes
    assert [code for code, _ in identifiers.eas_choices()] == sorted(identifiers.EAS_SCHEMES)
    with translation.override("ru"):
        names = {code: str(name) for code, name in identifiers.eas_choices()}
    assert names["0208"] == "Номер предприятия (Бельгия)"


# The Peppol rules check four schemes themselves: both must give the same verdict.
PEPPOL_CHECKED = [
    ("0208", "0403170701", "PEPPOL-COMMON-R043"),
    ("0208", "0403170702", "PEPPOL-COMMON-R043"),
    ("0192", "974760673", "PEPPOL-COMMON-R041"),
    ("0192", "974760672", "PEPPOL-COMMON-R041"),
    ("0007", "5560160680", "PEPPOL-COMMON-R049"),
    ("0007", "9876543210", "PEPPOL-COMMON-R049"),
    ("0088", "7350039110021", "PEPPOL-COMMON-R040"),
    ("0088", "7350039110022", "PEPPOL-COMMON-R040"),
]


@pytest.mark.parametrize(("scheme", "value", "rule"), PEPPOL_CHECKED)
def test_the_validators_agree_with_the_peppol_rules(scheme, value, rule):
    xml = (EXAMPLES / "peppol-base-example.xml").read_bytes()
    changed = xml.replace(
        b'<cbc:EndpointID schemeID="0088">9482348239847239874</cbc:EndpointID>',
        f'<cbc:EndpointID schemeID="{scheme}">{value}</cbc:EndpointID>'.encode(),
    )
    assert changed != xml
    peppol_accepts = rule not in validate_ubl(changed).fatal_rules

    try:
        validate_participant_id(scheme, value)
    except ValidationError:
        portal_accepts = False
    else:
        portal_accepts = True

    assert portal_accepts == peppol_accepts
