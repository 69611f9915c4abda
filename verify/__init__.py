"""Verification tooling beyond the unit tests: the AWS part of a stack for terraform, the moto
end-to-end deploy (``make e2e``) and the checkov policy scan (``make check``).

Used by the tests and the Makefile; nothing here is imported by the app itself.
"""
