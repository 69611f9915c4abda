"""Flightdeck's construct library.

Not named ``constructs``: a package of that name here would shadow the ``constructs`` library
that cdktf itself imports.

Layout: ``handles`` (what a cloud hands to the layers above it), ``placement`` and ``workloads``
(cloud-neutral facts shared by the cluster and the Airflow release), ``aws/`` (the AWS side of the
cloud seam). Provider bindings are imported inside the modules that use them, so an environment
only loads the bindings it needs.
"""
