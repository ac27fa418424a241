from __future__ import annotations

import pytest

from loyalty.errors import ValidationError
from loyalty.services._common import Checks

pytestmark = pytest.mark.nodb


def test_text_keeps_what_exports_can_clean_and_refuses_other_control_characters() -> None:
    checks = Checks()
    assert checks.text("name", "  Zoë|O'Brien\tJr  ", 60) == "Zoë|O'Brien\tJr"
    checks.done()
    checks = Checks()
    checks.text("name", "bell\x07", 60)
    with pytest.raises(ValidationError, match="control characters"):
        checks.done()
