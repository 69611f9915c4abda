"""The GCP side of the cloud seam: VPC, GKE, Workload Identity, Cloud SQL, GCS task logs and Artifact Registry.

``GcpPlatform`` (in ``platform.py``) composes them and returns a :class:`CloudPlatform` of handles.
Only this package imports the google and random bindings.
"""
