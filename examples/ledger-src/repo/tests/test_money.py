import os

from ledger.money import decimals_for, to_minor_units


def test_cents():
    assert to_minor_units(12.34, "EUR") == 1234


def test_yen_has_no_minor_unit():
    assert to_minor_units(500, "JPY") == 500


def test_default_currency_from_environment():
    # The repository profile sets LEDGER_CURRENCY=EUR for every sandbox run.
    assert os.environ["LEDGER_CURRENCY"] == "EUR"
    assert decimals_for() == 2


def test_default_currency_can_be_patched(mocker):
    mocker.patch.dict(os.environ, {"LEDGER_CURRENCY": "JPY"})
    assert decimals_for() == 0
