"""Flightdeck's construct library.

Not named ``constructs``: a package of that name here would shadow the ``constructs`` library
that cdktf itself imports.

Layout, lowest layer first (the README's architecture section; ``tests/test_import_layers.py``
checks it): ``workloads``, ``placement``, ``tagging`` (cloud-neutral names and facts); ``handles``,
``helm`` and ``migrations`` (what a cloud hands to the layers above it, and Airflow's one-way schema
as every cloud guards it); ``kubernetes/`` and ``teams`` (namespaces, RBAC, add-ons, tenancy); then
the siblings ``airflow/``, ``datadog/`` and the cloud seam's ``aws/``, ``gcp/`` and ``existing/``.
Provider bindings are imported inside the modules that use them, so an environment only loads the
bindings it needs; providers and backends are set by ``stacks/``.
"""
