from tests.agents.openai_server import openai_server  # noqa: F401 - a fixture
