"""Workflows that probe the worker's sandbox (tests/eventstore/temporal/test_sandbox.py)."""

from datetime import datetime

from temporalio import workflow

MODULE_MARKER = object()  # one object per import of this module


@workflow.defn(name="SandboxModuleIdentity")
class ModuleIdentityWorkflow:
    @workflow.run
    async def run(self) -> int:
        return id(MODULE_MARKER)


@workflow.defn(name="SandboxClockReader")
class ClockReadingWorkflow:
    @workflow.run
    async def run(self) -> str:
        return datetime.now().isoformat()  # refused by the sandbox: not deterministic
