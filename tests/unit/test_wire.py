"""The modules generated from the pinned wavefront-api-client are up to date, and the wire
models carry the client's types and enums."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest
from pydantic import ValidationError

from chalicelib.wire import wavefront

ROOT = pathlib.Path(__file__).resolve().parents[2]
GENERATED = {
    "scripts/gen_wavefront_operations.py": "chalicelib/http/wavefront_operations.py",
    "scripts/gen_wire_models.py": "chalicelib/wire/wavefront.py",
}


@pytest.mark.parametrize(("script", "committed"), sorted(GENERATED.items()))
def test_can_regenerate_the_committed_module_from_the_pinned_client(tmp_path, script, committed):
    # GIVEN the generator run again against the installed (pinned) client, into a temp file
    fresh = tmp_path / "fresh.py"
    subprocess.run([sys.executable, str(ROOT / script), str(fresh)], check=True, cwd=ROOT, capture_output=True)
    # THEN it writes exactly what is committed (else: make wire)
    assert fresh.read_text() == (ROOT / committed).read_text(), f"{committed} is stale: run make wire"


def test_can_validate_with_the_clients_types_and_enums():
    # GIVEN the generated Alert: every field optional, strict, enums from the client's setters
    assert wavefront.Alert.model_validate({}).name is None
    alert = wavefront.Alert.model_validate({"alertType": "THRESHOLD", "tags": {"customerTags": ["a"]}})
    assert isinstance(alert.tags, wavefront.WFTags) and alert.tags.customerTags == ["a"]
    # THEN a value outside the client's allowed list, or of the wrong JSON type, is refused
    with pytest.raises(ValidationError):
        wavefront.Alert.model_validate({"alertType": "SOMETIMES"})
    with pytest.raises(ValidationError):
        wavefront.Alert.model_validate({"minutes": "5"})
    with pytest.raises(ValidationError):
        wavefront.AlertSource.model_validate({"alertSourceType": ["VARIABLE", "NEITHER"]})
    # AND unknown keys are kept, as the client's documents carry fields newer than the pin
    assert wavefront.Dashboard.model_validate({"brandNew": 1}).model_extra == {"brandNew": 1}
