"""The environment's customer-managed KMS key.

One key per environment encrypts Kubernetes secrets, control-plane and flow logs, the database and
its managed password, task logs and images. It rotates yearly.

Node root volumes use the account's AWS-managed EBS key instead: a customer key there needs a key
policy naming the Auto Scaling service-linked role, which does not exist yet in a fresh account and
makes the key's creation fail.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from .iam import policy


@dataclass(frozen=True, kw_only=True)
class KmsKeyHandle:
    arn: str
    key_id: str


@dataclass(frozen=True, kw_only=True)
class PlatformKeyProps:
    name: str
    """Alias (``alias/<name>``) and description of the key."""
    account_id: str
    region: str
    partition: str = "aws"
    deletion_window_days: int = 30
    """How long a scheduled deletion can still be cancelled; the maximum, since everything depends on the key."""


def account_administers(partition: str, account_id: str) -> dict[str, object]:
    """The key-policy statement that leaves the key to the account: IAM policies decide who uses it."""
    return {
        "Sid": "AccountAdministers",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


class PlatformKey(Construct):
    def __init__(self, scope: Construct, id: str, props: PlatformKeyProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
        from cdktf_cdktf_provider_aws.kms_key import KmsKey

        crypto = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        key_policy = policy(
            account_administers(props.partition, props.account_id),
            {
                # CloudWatch Logs encrypts the control-plane and flow-log groups with this key.
                "Sid": "CloudWatchLogs",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{props.region}.amazonaws.com"},
                "Action": crypto,
                "Resource": "*",
                "Condition": {
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": f"arn:{props.partition}:logs:{props.region}:{props.account_id}:*"
                    }
                },
            },
        )
        self.key = KmsKey(
            self,
            "key",
            description=f"{props.name}: Kubernetes secrets, logs, database and task logs",
            enable_key_rotation=True,
            deletion_window_in_days=props.deletion_window_days,
            policy=key_policy,
        )
        KmsAlias(self, "alias", name=f"alias/{props.name}", target_key_id=self.key.key_id)
        self.handle = KmsKeyHandle(arn=self.key.arn, key_id=self.key.key_id)
