"""The AWS side of the cloud seam: network, EKS, pod identities, RDS, S3 task logs and ECR.

``AwsPlatform`` (in ``platform.py``) composes them and returns a :class:`CloudPlatform` of handles.
Only this package imports the aws bindings.
"""
