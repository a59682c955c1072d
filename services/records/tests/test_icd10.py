import pytest
from confide_contracts.codes import icd10

pytestmark = pytest.mark.unit  # pure: no PostgreSQL, RabbitMQ or OpenBao


def test_the_shipped_list_is_chapter_five_with_its_source():
    codes = icd10.catalogue()
    assert len(codes) > 1000 and all(c.startswith("F") for c in codes)
    assert "ICD-10-CM" in icd10.source() and "simple-icd-10-cm" in icd10.source()


@pytest.mark.parametrize(("raw", "code"), [("F32.1", "F32.1"), ("f321", "F32.1"), (" F43.10 ", "F43.10"),
                                           ("F90.2", "F90.2")])
def test_lookup(raw, code):
    assert icd10.lookup(raw).code == code


@pytest.mark.parametrize("raw", ["", "F3", "F32.12345", "32.1", "F32.", "U07.1"])
def test_not_codes(raw):
    with pytest.raises(icd10.InvalidCode):
        icd10.lookup(raw)
