from tests.llm_endpoint import llm_endpoint, openai_server, task  # noqa: F401 - fixtures
