"""The detector protocol: specs design detectors, state round-trips, direction comes from the design."""

from __future__ import annotations

from agent.stats.cusum import GridGlr
from agent.stats.detectors import DetectorSpec, GlrDetector, detector_specs, progress, restore


def test_specs_design_every_detector_and_state_round_trips() -> None:
    specs = detector_specs([0.1, 0.2])
    assert [s.name for s in specs] == ["cusum_drop_10", "cusum_drop_20", "cusum_rise_10", "glr_drop"]
    for spec in specs:
        det = spec.design(0.7, 500.0, None)
        assert det is not None and det.name == spec.name and det.direction == spec.direction
        for passed in (False, False, True, False):
            det.update(passed)
        again = restore(det.name, det.state())
        assert again.state() == det.state() and again.direction == det.direction
        assert progress(again) == progress(det)
        assert (progress(det) > 0) == (det.direction == "drop")  # failures move only the drop detectors


def test_direction_is_read_from_the_design_not_the_name() -> None:
    det = DetectorSpec("oddly_named", "rise", 0.1).design(0.5, 500.0, None)
    assert det is not None and det.direction == "rise"
    assert restore("oddly_named", det.state()).direction == "rise"


def test_a_glr_without_room_is_not_designed() -> None:
    assert DetectorSpec("glr_drop", "drop").design(0.0001, 500.0, None) is None
    assert GlrDetector("empty", GridGlr()).design is None
