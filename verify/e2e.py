"""Deploy an environment's platform stack into a local AWS emulator, check it, destroy it (``make e2e``).

    python -m verify.e2e [dev prod ...]     # no names: every AWS environment

For each environment (by default every one whose platform stack is AWS's): synthesize, start moto's
server on 127.0.0.1 and a free port, ``terraform apply`` the whole platform stack with the real
hashicorp/aws provider pointed at it, check the key resources through boto3, ``terraform destroy``,
then check that the state and the emulator are empty. The emulator is stopped at the end, whatever
happened. Nothing talks to a real cloud. The cluster stack needs a real cluster, so it is not applied here.

What the emulator cannot do is left out and said so (``EMULATOR_GAPS``); prod's deletion protection
is lifted for the emulated run only, or the emulated database could not be destroyed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flightdeck.manifest import synthesized_stacks

from .terraform import find_mirror, for_mirror, terraform, write_cli_config

REPO = Path(__file__).resolve().parent.parent

# Resource types moto 5 does not emulate: its EKS has no add-ons, access entries or pod identity
# associations, and gives a cluster no security group, so the rules and the discovery tag that
# reference it cannot exist; a CodeBuild webhook needs GitHub (through the account's connection).
EMULATOR_GAPS = (
    "aws_eks_addon",
    "aws_eks_access_entry",
    "aws_eks_access_policy_association",
    "aws_eks_pod_identity_association",
    "aws_vpc_security_group_ingress_rule",
    "aws_ec2_tag",
    "aws_codebuild_webhook",
)
APPLY_TIMEOUT = 900


STARTUP_SECONDS = 180
"""How long the emulator may take to answer its first request (it is killed after)."""


LISTENING = re.compile(r"Running on http://127\.0\.0\.1:(\d+)")
"""How the moto server (werkzeug) says which port it bound."""


class Emulator:
    """A moto server on loopback, started at once in ``base`` (by default this process's environment);
    ``endpoint`` waits until it answers, ``stop`` stops it.

    The server binds a port the system picks (``-p 0``) and says which: a port picked here and bound
    later could be taken in between by another emulator (CI runs both lines' suites and the emulated
    deploy side by side), whose answers would then be taken for this one's. Started before it is
    needed, its start (about a second of importing moto) overlaps whatever the caller does meanwhile.
    """

    def __init__(self, account_id: str, base: Mapping[str, str] = os.environ) -> None:
        environ = {**base, "MOTO_ACCOUNT_ID": account_id, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
        self.account_id = account_id
        self.log = tempfile.NamedTemporaryFile(prefix="moto-", suffix=".log")  # closed by stop()
        self.server = subprocess.Popen(
            [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", "0"],
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        self._endpoint: str | None = None

    def endpoint(self) -> str:
        """Its address, once it answers."""
        if self._endpoint is not None:
            return self._endpoint
        # Usually a second or two; but the first start in a fresh environment compiles moto's
        # modules (nothing is byte-compiled at install), and under CI's niced test suites that
        # once took longer than 30 s. A server that exits fails at once, whatever the deadline.
        deadline = time.monotonic() + STARTUP_SECONDS
        endpoint = None
        while True:
            if endpoint is None and (listening := LISTENING.search(Path(self.log.name).read_text(errors="replace"))):
                endpoint = f"http://127.0.0.1:{listening.group(1)}"
            try:
                if endpoint is not None:
                    urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2)
                    self._endpoint = endpoint
                    return endpoint
            except OSError:
                pass
            if self.server.poll() is not None:
                raise RuntimeError(f"the moto server exited with status {self.server.returncode} before it answered")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the moto server did not answer within {STARTUP_SECONDS} s")
            time.sleep(0.1)

    def stop(self) -> None:
        self.server.terminate()
        try:
            self.server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait()
        self.log.close()


@contextmanager
def emulator(account_id: str, base: Mapping[str, str] = os.environ, started: Emulator | None = None) -> Iterator[str]:
    """A moto server on loopback for the duration of the block (``started``, or one started now in
    ``base``); yields its endpoint, and stops it when the block ends."""
    server = started if started is not None else Emulator(account_id, base)
    if server.account_id != account_id:
        server.stop()
        raise ValueError(f"the emulator was started for account {server.account_id}, not {account_id}")
    try:
        yield server.endpoint()
    finally:
        server.stop()


def endpoint_environment(endpoint: str) -> dict[str, str]:
    """What points the provider at the emulator, for every service: ``AWS_ENDPOINT_URL`` in its
    environment rather than an ``endpoints`` block in its configuration, whose validation costs the
    provider about two seconds each time Terraform validates the configuration (several times a
    command, in every environment's apply and destroy)."""
    return {"AWS_ENDPOINT_URL": endpoint}


def emulated_part(stack: dict[str, Any], version: str) -> dict[str, Any]:
    """The stack as the emulator takes it (``endpoint_environment`` says where it is)."""
    part = for_mirror(stack, version, exclude_types=EMULATOR_GAPS)
    (provider,) = part["provider"]["aws"]
    provider = {k: v for k, v in provider.items() if k != "allowed_account_ids"}  # needs a real account lookup
    provider.update(
        access_key="emulator",
        secret_key="emulator",
        skip_credentials_validation=True,
        skip_metadata_api_check=True,
        skip_requesting_account_id=True,
        s3_use_path_style=True,
    )
    part["provider"]["aws"] = [provider]
    for db in part["resource"].get("aws_db_instance", {}).values():
        db.update(deletion_protection=False, skip_final_snapshot=True)
        db.pop("final_snapshot_identifier", None)
    return part


def boto(service: str, endpoint: str, region: str) -> Any:
    import boto3

    return boto3.client(
        service, endpoint_url=endpoint, region_name=region, aws_access_key_id="emulator", aws_secret_access_key="emulator"
    )


def check_deployed(stack: dict[str, Any], endpoint: str, region: str) -> list[str]:
    """What must exist after the apply, asked of the emulator like a person would ask AWS."""
    problems = []
    cluster = next(iter(stack["resource"]["aws_eks_cluster"].values()))
    eks = boto("eks", endpoint, region)
    described = eks.describe_cluster(name=cluster["name"])["cluster"]
    if described["version"] != cluster["version"]:
        problems.append(f"cluster version {described['version']} != {cluster['version']}")
    if described.get("encryptionConfig", [{}])[0].get("resources") != ["secrets"]:
        problems.append("cluster secrets are not envelope-encrypted")
    groups = set(eks.list_nodegroups(clusterName=cluster["name"])["nodegroups"])
    # The system group only: task capacity is Karpenter's.
    declared = {g["node_group_name"] for g in stack["resource"]["aws_eks_node_group"].values()}
    if groups != declared or groups != {"system"}:
        problems.append(f"node groups {sorted(groups)}, declared {sorted(declared)}")
    db_config = next(iter(stack["resource"]["aws_db_instance"].values()))
    (db,) = boto("rds", endpoint, region).describe_db_instances(DBInstanceIdentifier=db_config["identifier"])["DBInstances"]
    if not db["StorageEncrypted"] or db["MultiAZ"] != db_config["multi_az"] or db["PubliclyAccessible"]:
        problems.append(f"database: encrypted={db['StorageEncrypted']} multi_az={db['MultiAZ']} public={db['PubliclyAccessible']}")
    if "MasterUserSecret" not in db:
        problems.append("database password is not managed in Secrets Manager")
    bucket = next(iter(stack["resource"]["aws_s3_bucket"].values()))["bucket"]
    s3 = boto("s3", endpoint, region)
    if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
        problems.append("log bucket is not versioned")
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    if rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] != "aws:kms":
        problems.append("log bucket is not encrypted with KMS")
    if not all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values()):
        problems.append("log bucket does not block public access")
    iam = boto("iam", endpoint, region)
    for role in stack["resource"]["aws_iam_role"].values():
        iam.get_role(RoleName=role["name"])  # raises if missing
    nats = boto("ec2", endpoint, region).describe_nat_gateways()["NatGateways"]
    expected_nats = len(stack["resource"]["aws_nat_gateway"])
    if len([n for n in nats if n["State"] == "available"]) != expected_nats:
        problems.append(f"{len(nats)} NAT gateways, expected {expected_nats}")
    for project in stack["resource"].get("aws_codebuild_project", {}).values():
        (described_project,) = boto("codebuild", endpoint, region).batch_get_projects(names=[project["name"]])["projects"]
        vpc = described_project.get("vpcConfig", {})
        if not vpc.get("subnets") or len(vpc.get("securityGroupIds", [])) != 1:
            problems.append(f"runner {project['name']} is not inside the VPC: {vpc}")
    repo = next(iter(stack["resource"]["aws_ecr_repository"].values()))["name"]
    (described_repo,) = boto("ecr", endpoint, region).describe_repositories(repositoryNames=[repo])["repositories"]
    if described_repo["imageTagMutability"] != "IMMUTABLE":
        problems.append("image tags are mutable")
    return problems


def check_empty(endpoint: str, region: str, prefix: str) -> list[str]:
    """After the destroy, nothing of the environment may be left in the emulator."""
    left = []
    if boto("eks", endpoint, region).list_clusters()["clusters"]:
        left.append("EKS clusters")
    if boto("rds", endpoint, region).describe_db_instances()["DBInstances"]:
        left.append("database instances")
    if boto("s3", endpoint, region).list_buckets()["Buckets"]:
        left.append("buckets")
    ec2 = boto("ec2", endpoint, region)
    if [v for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]]:
        left.append("VPCs")
    if [n for n in ec2.describe_nat_gateways()["NatGateways"] if n["State"] not in ("deleted", "deleting")]:
        left.append("NAT gateways")
    if [r for r in boto("iam", endpoint, region).list_roles()["Roles"] if r["RoleName"].startswith(prefix)]:
        left.append("IAM roles")
    if boto("ecr", endpoint, region).describe_repositories()["repositories"]:
        left.append("image repositories")
    kms = boto("kms", endpoint, region)
    live_keys = [
        k for k in kms.list_keys()["Keys"] if kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] != "PendingDeletion"
    ]
    if live_keys:
        left.append("KMS keys not scheduled for deletion")
    return left


def boundary_of(stack: dict[str, Any]) -> str | None:
    """The permissions boundary the stack's roles carry (one for all, or None without CI)."""
    boundaries = {role.get("permissions_boundary") for role in stack["resource"].get("aws_iam_role", {}).values()}
    if len(boundaries) != 1:
        raise ValueError(f"the roles carry {len(boundaries)} different boundaries: {sorted(map(str, boundaries))}")
    boundary: str | None = boundaries.pop()
    return boundary


def create_boundary(stack: dict[str, Any], bootstrap: dict[str, Any] | None, endpoint: str, region: str) -> str | None:
    """Create the boundary the bootstrap stack would have made, from its synthesized document, before the
    platform's roles that carry it. IAM (the emulator's) parses the document; references to the bootstrap's
    own state bucket and key are replaced by placeholder ARNs."""
    arn = boundary_of(stack)
    if arn is None:
        return None
    name = arn.rsplit("/", 1)[1]
    policies = (bootstrap or {}).get("resource", {}).get("aws_iam_policy", {})
    (document,) = [body["policy"] for body in policies.values() if body["name"] == name] or [None]
    if document is None:
        raise ValueError(f"the roles carry {arn}, which the bootstrap stack does not create")
    document = re.sub(r"\$\{[^}]+\}", "arn:aws:s3:::emulated-state", document)
    boto("iam", endpoint, region).create_policy(PolicyName=name, PolicyDocument=document)
    return arn


def check_boundaries(stack: dict[str, Any], boundary: str | None, endpoint: str, region: str) -> list[str]:
    """Every role the stack declares exists with the boundary (the deployer could not have created it otherwise)."""
    iam = boto("iam", endpoint, region)
    problems = []
    for role in stack["resource"].get("aws_iam_role", {}).values():
        found = iam.get_role(RoleName=role["name"])["Role"].get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
        if found != boundary:
            problems.append(f"role {role['name']} has boundary {found}, not {boundary}")
    return problems


COMPLETE_AFTER = re.compile(r"^(\S+): (?:Creation|Destruction|Modifications) complete after (?:(\d+)m)?(\d+)s", re.M)


def slowest(output: str, count: int = 3) -> str:
    """The resources Terraform waited on longest (``aws_db_instance.x 45 s``), from its own output."""
    times = sorted(
        ((int(m.group(2) or 0) * 60 + int(m.group(3)), m.group(1)) for m in COMPLETE_AFTER.finditer(output)), reverse=True
    )
    return ", ".join(f"{address.split('.')[0]} {seconds} s" for seconds, address in times[:count]) or "none"


def run(env: str, stack: dict[str, Any], bootstrap: dict[str, Any] | None, workdir: Path, cli_config: Path, version: str) -> bool:
    (provider,) = stack["provider"]["aws"]
    region, account = provider["region"], provider["allowed_account_ids"][0]
    started = time.monotonic()
    with emulator(account) as endpoint:
        environ = {**os.environ, **endpoint_environment(endpoint)}
        boundary = create_boundary(stack, bootstrap, endpoint, region)
        part = emulated_part(stack, version)
        count = sum(len(r) for r in part["resource"].values())
        (workdir / "main.tf.json").write_text(json.dumps(part, indent=1))
        steps = [("init", ["init", "-backend=false", "-input=false", "-no-color"])]
        steps.append(("apply", ["apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=20"]))
        for name, args in steps:
            result = terraform(args, workdir, cli_config, timeout=APPLY_TIMEOUT, base=environ)
            if result.returncode != 0:
                print(f"{env}: terraform {name} failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}")
                terraform(["destroy", "-auto-approve", "-no-color"], workdir, cli_config, timeout=APPLY_TIMEOUT, base=environ)
                return False
        applied = time.monotonic() - started
        apply_output = result.stdout
        problems = check_deployed(stack, endpoint, region) + check_boundaries(stack, boundary, endpoint, region)
        destroying = time.monotonic()
        destroy = terraform(
            ["destroy", "-auto-approve", "-input=false", "-no-color", "-parallelism=20"], workdir, cli_config, timeout=APPLY_TIMEOUT, base=environ
        )
        destroyed = time.monotonic() - destroying
        state = terraform(["state", "list"], workdir, cli_config, base=environ)
        if destroy.returncode != 0:
            problems.append(f"destroy failed: {destroy.stderr[-2000:]}")
        if state.stdout.strip():
            problems.append(f"state not empty after destroy: {state.stdout.split()}")
        prefix = next(iter(stack["resource"]["aws_eks_cluster"].values()))["name"]
        left = check_empty(endpoint, region, prefix)
        notes = _codebuild_delete_gap(endpoint, region)
        if left:
            problems.append(f"left in the emulator after destroy: {', '.join(left)}")
    total = time.monotonic() - started
    skipped = sorted({t for t in EMULATOR_GAPS if t in stack["resource"]})
    print(
        f"{env}: applied {count} AWS resources in {applied:.0f} s, checked, destroyed; {total:.0f} s in all; "
        f"not emulated: {', '.join(skipped)}"
    )
    print(f"{env}: slowest to create: {slowest(apply_output)}; destroy {destroyed:.0f} s, slowest: {slowest(destroy.stdout)}")
    for note in notes:
        print(f"{env}: note: {note}")
    for problem in problems:
        print(f"{env}: FAILED: {problem}")
    return not problems


def _codebuild_delete_gap(endpoint: str, region: str) -> list[str]:
    """moto's DeleteProject takes the project's name only, and the provider passes its ARN (the
    resource's id): the destroy succeeds and empties the state, but the emulator keeps the project.
    Deleted here by name, and said, so that the emptiness check above still covers everything else."""
    codebuild = boto("codebuild", endpoint, region)
    left = codebuild.list_projects()["projects"]
    for name in left:
        codebuild.delete_project(name=name)
    return [f"CodeBuild project {name} deleted by name after the destroy (emulator gap)" for name in left]


def aws_environments(synthesized: dict[str, Path]) -> list[str]:
    """The environments whose platform stack deploys to AWS (a GKE one is not for this emulator)."""
    return sorted(
        name.removesuffix("_platform")
        for name, path in synthesized.items()
        if name.endswith("_platform") and "aws" in json.loads(path.read_text())["terraform"]["required_providers"]
    )


def main(argv: list[str]) -> int:
    mirror = find_mirror()
    if mirror is None:
        print("e2e: no filesystem mirror with hashicorp/aws found (see README, How it is verified)", file=sys.stderr)
        return 2
    root, version = mirror
    with tempfile.TemporaryDirectory(prefix="flightdeck-e2e-") as tmp:
        tmpdir = Path(tmp)
        outdir = tmpdir / "cdktf.out"
        environ = {k: v for k, v in os.environ.items() if not k.startswith("FLIGHTDECK_SET")}
        synth = subprocess.run(
            [sys.executable, str(REPO / "main.py")], cwd=REPO, env={**environ, "CDKTF_OUTDIR": str(outdir)}, check=False
        )
        if synth.returncode != 0:
            return synth.returncode
        cli_config = write_cli_config(root, tmpdir / "terraform.rc")
        synthesized = synthesized_stacks(outdir)
        available = aws_environments(synthesized)
        envs = argv[1:] or available
        missing = [env for env in envs if env not in available]
        if missing or not envs:
            named = f"'{missing[0]}'" if missing else "at all"
            print(f"e2e: no AWS environment {named} (AWS environments: {', '.join(available) or 'none'})", file=sys.stderr)
            return 2
        bootstrap = json.loads(synthesized["bootstrap"].read_text()) if "bootstrap" in synthesized else None

        def one(env: str) -> bool:
            workdir = tmpdir / env
            workdir.mkdir()
            return run(env, json.loads(synthesized[f"{env}_platform"].read_text()), bootstrap, workdir, cli_config, version)

        # Each environment against its own emulator, at the same time: the runs mostly wait on the
        # provider's polling (the database, the queue policy), not on the machine.
        with ThreadPoolExecutor(max_workers=len(envs)) as pool:
            ok = all(list(pool.map(one, envs)))
    print(f"e2e: {'passed' if ok else 'FAILED'} (ran {', '.join(envs)})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
