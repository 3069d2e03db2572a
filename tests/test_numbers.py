"""Measured numbers read the same on pages and in PDFs (governance.core.numbers)."""

import pytest

from governance.core.numbers import measured
from governance.reports.templatetags.report_tags import num as pdf_num
from governance.web.templatetags.web_extras import num as page_num


@pytest.mark.parametrize(
    "value, text",
    [
        (None, "—"),
        ("", "—"),
        (True, "yes"),
        (20000, "20,000"),
        (0.0, "0"),
        (3.0, "3"),
        (0.123456, "0.1235"),
        (-1.12734, "-1.127"),
        (0.00003572, "3.572e-05"),
        (float("nan"), "NaN"),
        (float("inf"), "∞"),
        ("n/a", "n/a"),
    ],
)
def test_a_number_reads_the_same_on_the_page_and_in_the_pdf(value, text):
    assert measured(value) == text
    assert page_num(value) == pdf_num(value) == text
