"""Tests of the constructs on their own, one module per layer of ``platform_constructs`` (see test_refusals_are_tested)."""
