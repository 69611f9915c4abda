"""Synthesized Terraform expressions run by Terraform itself, offline, where no provider is at hand.

A precondition and any other expression of a synthesized resource are copied onto a built-in
``terraform_data`` resource; the one data source they read is replaced by a variable, so each case
gives that data source's answer and Terraform evaluates the rest exactly as synthesized.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass(frozen=True)
class Outcome:
    status: int
    output: str
    """Terraform's output, folded onto one line."""
    values: dict[str, Any]
    """The expressions' values, after a successful apply."""


class Evaluator:
    def __init__(self, workdir: Path, reference: str, precondition: dict[str, str], expressions: dict[str, str] | None = None) -> None:
        """``reference``: the data source attribute to replace (``data.x.y.objects``), read by ``precondition`` and ``expressions``."""
        if shutil.which("terraform") is None:
            pytest.skip("needs the terraform CLI")
        assert reference in precondition["condition"], "the precondition reads the data source"
        self.workdir = workdir
        self.cli_config = workdir / "terraform.rc"
        self.cli_config.write_text("")  # terraform_data is built in: no provider, no mirror
        substitute = {key: value.replace(reference, "var.answer") for key, value in precondition.items()}
        config: dict[str, Any] = {
            "variable": {"answer": {"type": "any"}},
            "resource": {"terraform_data": {"checked": {"input": "checked", "lifecycle": {"precondition": [substitute]}}}},
        }
        if expressions:
            config["output"] = {name: {"value": value.replace(reference, "var.answer")} for name, value in expressions.items()}
        (workdir / "main.tf.json").write_text(json.dumps(config))

    def run(self, answer: Any) -> Outcome:
        """A plan and apply with the data source answering ``answer``."""
        from verify.terraform import terraform

        if not (self.workdir / ".terraform").exists():
            init = terraform(["init", "-input=false", "-no-color"], self.workdir, self.cli_config)
            assert init.returncode == 0, init.stderr
        (self.workdir / "terraform.tfstate").unlink(missing_ok=True)
        (self.workdir / "answer.auto.tfvars.json").write_text(json.dumps({"answer": answer}))
        result = terraform(["apply", "-auto-approve", "-input=false", "-no-color"], self.workdir, self.cli_config)
        output = " ".join((result.stdout + result.stderr).split())
        if result.returncode != 0:
            return Outcome(result.returncode, output, {})
        outputs = json.loads(terraform(["output", "-json"], self.workdir, self.cli_config).stdout)
        return Outcome(0, output, {name: value["value"] for name, value in outputs.items()})
