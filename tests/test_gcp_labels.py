"""Tags as GCP labels (``platform_constructs/gcp/labels.py``)."""

from __future__ import annotations

import pytest

from platform_constructs.gcp.labels import gcp_labels


def test_tags_become_labels_and_two_tags_that_would_be_one_label_are_refused() -> None:
    assert gcp_labels({"CostCenter": "CC-1042", "1st": "Yes"}) == {"costcenter": "cc-1042", "l_1st": "yes"}
    with pytest.raises(ValueError, match=r"tags 'Cost.Center' and 'cost_center' both become GCP label 'cost_center'; rename one of them"):
        gcp_labels({"Cost.Center": "a", "cost_center": "b"})
