"""The agent contract: an agent's Input and Output are read from its run's annotations, once."""

import pytest
from pydantic import BaseModel

from agents.kernel import Agent, AgentContext, AgentResult


class Question(BaseModel):
    text: str


class Answer(BaseModel):
    text: str


class Answerer(Agent):
    name = "test_answerer"
    version = "1"

    def run(self, ctx: AgentContext, input: Question) -> AgentResult[Answer]:  # noqa: A002
        return AgentResult(output=Answer(text=input.text))


def test_input_and_output_are_read_from_run_annotations():
    assert Answerer.Input is Question
    assert Answerer.Output is Answer


def test_a_subclass_that_keeps_its_parents_run_keeps_its_models():
    class LoudAnswerer(Answerer):
        name = "test_loud_answerer"

    assert (LoudAnswerer.Input, LoudAnswerer.Output) == (Question, Answer)


def test_an_unannotated_input_fails_at_declaration():
    with pytest.raises(TypeError, match=r"Unannotated\.run: annotate `input`"):

        class Unannotated(Agent):
            def run(self, ctx, input) -> AgentResult[Answer]:  # noqa: A002
                raise NotImplementedError


def test_an_output_the_return_annotation_does_not_name_fails_at_declaration():
    with pytest.raises(TypeError, match=r"Bare\.run: annotate its return as AgentResult\["):

        class Bare(Agent):
            def run(self, ctx: AgentContext, input: Question) -> AgentResult:  # noqa: A002
                raise NotImplementedError


@pytest.mark.parametrize("attribute", ["Input", "Output"])
def test_a_model_stated_again_as_a_class_attribute_fails_at_declaration(attribute):
    refused = rf"Restated\.{attribute}: the model is read from run's annotations only"
    with pytest.raises(TypeError, match=refused):
        type(
            "Restated",
            (Agent,),
            {
                attribute: Question if attribute == "Input" else Answer,
                "run": Answerer.run,
            },
        )
