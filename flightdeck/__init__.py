"""Flightdeck's user-facing side: environment files, their validation and CI overrides.

Nothing in this package imports cdktf or provider bindings, so a bad environment file is
reported in well under a second, before any of the expensive bindings load.
"""
