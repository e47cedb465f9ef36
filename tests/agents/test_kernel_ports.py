"""The ports an agent's context holds (agents.kernel.ports) and the ledger's implementations of them take the
same arguments; where a port marks an argument as one callers may leave out (`= ...`), the implementation
has its default. The defaults are written once, in the implementation, so this is what keeps the two
in step."""

import inspect

import pytest

from agents.kernel.ports import LLM, Memory
from ledger.llm.gateway import LLMGateway
from ledger.memory_access import MemoryAccess


@pytest.mark.parametrize(
    ("port", "implementation", "method"),
    [(LLM, LLMGateway, "structured"), (Memory, MemoryAccess, "recall"), (Memory, MemoryAccess, "embed")],
)
def test_an_implementation_takes_what_its_port_says(port, implementation, method):
    said = inspect.signature(getattr(port, method)).parameters
    taken = inspect.signature(getattr(implementation, method)).parameters
    assert list(taken) == list(said)
    for name, parameter in said.items():
        assert taken[name].kind == parameter.kind, name
        assert str(taken[name].annotation) == str(parameter.annotation), name
        optional = parameter.default is not inspect.Parameter.empty
        assert (taken[name].default is not inspect.Parameter.empty) == optional, name
        assert taken[name].default is not Ellipsis, f"{name}: the implementation's default is a real value"
