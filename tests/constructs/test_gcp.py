"""The GCP constructs on their own (``platform_constructs/gcp``): each refusal, with its whole message.

Props refuse what their construct cannot build as they are made, before any binding loads; a
refusal that needs the construct itself is reached by building it in a stack of its own.
"""

from __future__ import annotations

import pytest

from platform_constructs.gcp.storage import ArtifactRepositoryProps, GcsLogBucketProps

from .refusal import Refusals, refused_with

REFUSED: Refusals = {
    "GCS log expiry under a day": (
        lambda: GcsLogBucketProps(name="logs", project_id="p", region="europe-west1", expire_after_days=-1),
        "log expiry must be at least one day, got -1",
    ),
    "untagged images kept under a day": (
        lambda: ArtifactRepositoryProps(name="r", project_id="p", region="europe-west1", keep_untagged_days=0),
        "untagged images must be kept at least one day, got 0",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_gcp_constructs_refuse_what_they_cannot_build(case: str) -> None:
    make, message = REFUSED[case]
    assert refused_with(make) == message


def test_props_within_their_limits_are_accepted() -> None:
    GcsLogBucketProps(name="logs", project_id="p", region="europe-west1", expire_after_days=1)
    ArtifactRepositoryProps(name="r", project_id="p", region="europe-west1", keep_untagged_days=1)
