"""Every registered stage passes the plugin conformance suite (jaxfne_testing)."""
import pytest

from jaxfne_testing import check_entry, conformance_cases


@pytest.mark.parametrize("entry", conformance_cases())
def test_conformance(entry):
    check_entry(entry)
