"""A static embedding model read from a local folder, never downloaded.

The folder is laid out as model2vec publishes its models (the Japanese-capable "potion" ones
among them) and as an administrator copies it onto the server:
- `tokenizer.json`: a Hugging Face `tokenizers` tokenizer;
- `model.safetensors`: one 2-D float tensor `embeddings`, a row per token id;
- `config.json` (optional here): the publisher's settings.

A text's vector is the mean of its tokens' rows, L2-normalised, so that a dot product is the
cosine. numpy, tokenizers and safetensors (the optional `embedding` extra) are imported only
when a model is loaded: without them the bot runs, just without meaning-based search."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from tokenizers import Tokenizer

TOKENIZER_FILE = "tokenizer.json"
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
EMBEDDINGS_TENSOR = "embeddings"

# model2vec's own default: a long answer's meaning is in its first few hundred tokens, and
# the cut bounds the work per text.
MAX_TOKENS = 512
BATCH_SIZE = 256


class EmbeddingUnavailable(Exception):
    """numpy, tokenizers or safetensors is not installed (the `embedding` extra)."""


class ModelFolderIncomplete(Exception):
    """The model folder lacks a part, or a part cannot be used; the message names it."""

    def __init__(self, folder: Path, problem_ja: str, problem_en: str) -> None:
        self.folder = folder
        super().__init__(
            f"埋め込みモデルのフォルダが不完全です（{folder}: {problem_ja}）"
            f" / The embedding model folder is incomplete ({folder}: {problem_en})"
        )


class Embedder(Protocol):
    """What the vector store needs of a model: a stable identity and a way to embed."""

    @property
    def key(self) -> str: ...

    @property
    def dims(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]: ...


class EmbeddingModel:
    """A loaded static model. Build it with `load_model`."""

    def __init__(
        self,
        *,
        key: str,
        tokenizer: Tokenizer,
        embeddings: NDArray[np.float32],
        unknown_id: int | None,
    ) -> None:
        self.key = key
        self.dims = int(embeddings.shape[1])
        self._tokenizer = tokenizer
        self._embeddings = embeddings
        self._unknown_id = unknown_id

    def __repr__(self) -> str:
        return f"EmbeddingModel(key={self.key!r}, dims={self.dims})"

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One normalised row per text; a text without known tokens gives a zero row."""
        import numpy as np

        result = np.zeros((len(texts), self.dims), dtype=np.float32)
        for start in range(0, len(texts), BATCH_SIZE):
            batch = list(texts[start : start + BATCH_SIZE])
            encodings = self._tokenizer.encode_batch(batch, add_special_tokens=False)
            for offset, encoding in enumerate(encodings):
                ids = [i for i in encoding.ids if i != self._unknown_id][:MAX_TOKENS]
                if ids:
                    result[start + offset] = self._embeddings[ids].mean(axis=0)
        norms = np.linalg.norm(result, axis=1, keepdims=True)
        # A zero row stays zero rather than dividing by zero.
        np.divide(result, norms, out=result, where=norms > 0)
        return result


def load_model(folder: str | Path) -> EmbeddingModel:
    """Load the model in `folder`; refuse a folder that is not complete."""
    _require_libraries()
    from tokenizers import Tokenizer

    folder = Path(folder)
    _require_files(folder)
    _read_config(folder)

    try:
        tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
    except Exception as exc:  # the library raises plain Exceptions for a bad file
        raise ModelFolderIncomplete(
            folder, f"{TOKENIZER_FILE} を読めません", f"{TOKENIZER_FILE} is unreadable"
        ) from exc
    # The publisher's padding or truncation would add pad tokens to the mean or cut texts.
    tokenizer.no_padding()
    tokenizer.no_truncation()

    embeddings = _read_embeddings(folder)
    highest_id = max(tokenizer.get_vocab(with_added_tokens=True).values(), default=-1)
    if highest_id >= embeddings.shape[0]:
        raise ModelFolderIncomplete(
            folder,
            f"トークナイザーの語彙（{highest_id + 1}）が {EMBEDDINGS_TENSOR} の行数"
            f"（{embeddings.shape[0]}）より多い",
            f"the tokenizer's vocabulary ({highest_id + 1}) exceeds the rows of"
            f" {EMBEDDINGS_TENSOR} ({embeddings.shape[0]})",
        )
    return EmbeddingModel(
        key=_model_key(folder),
        tokenizer=tokenizer,
        embeddings=embeddings,
        unknown_id=_unknown_token_id(tokenizer),
    )


def _require_libraries() -> None:
    try:
        import numpy  # noqa: F401
        import safetensors  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError as exc:
        raise EmbeddingUnavailable(
            "意味検索には numpy・tokenizers・safetensors が必要です（pip install 'kyoso[embedding]'）"
            " / Meaning-based search needs numpy, tokenizers and safetensors"
            " (pip install 'kyoso[embedding]')"
        ) from exc


def _require_files(folder: Path) -> None:
    if not folder.is_dir():
        raise ModelFolderIncomplete(folder, "フォルダがありません", "the folder does not exist")
    missing = [name for name in (TOKENIZER_FILE, WEIGHTS_FILE) if not (folder / name).is_file()]
    if missing:
        names = ", ".join(missing)
        raise ModelFolderIncomplete(folder, f"{names} がありません", f"missing {names}")


def _read_config(folder: Path) -> dict[str, Any]:
    """The publisher's config, if any. Its `normalize` is not needed: vectors are always
    normalised here, as the store compares them by cosine, where length plays no part."""
    path = folder / CONFIG_FILE
    if not path.exists():
        return {}
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFolderIncomplete(
            folder, f"{CONFIG_FILE} を読めません", f"{CONFIG_FILE} is unreadable"
        ) from exc
    if not isinstance(config, dict) or not isinstance(config.get("normalize", True), bool):
        raise ModelFolderIncomplete(
            folder, f"{CONFIG_FILE} の形式が不正です", f"{CONFIG_FILE} is malformed"
        )
    return config


def _read_embeddings(folder: Path) -> NDArray[np.float32]:
    import numpy as np
    from safetensors import safe_open

    try:
        with safe_open(str(folder / WEIGHTS_FILE), framework="numpy") as weights:
            if EMBEDDINGS_TENSOR not in weights.keys():  # noqa: SIM118 (safe_open is no dict)
                raise ModelFolderIncomplete(
                    folder,
                    f"{WEIGHTS_FILE} にテンソル {EMBEDDINGS_TENSOR} がありません",
                    f"{WEIGHTS_FILE} has no tensor {EMBEDDINGS_TENSOR}",
                )
            tensor = weights.get_tensor(EMBEDDINGS_TENSOR)
    except ModelFolderIncomplete:
        raise
    except Exception as exc:  # a corrupt header, or a dtype numpy lacks (bfloat16)
        raise ModelFolderIncomplete(
            folder, f"{WEIGHTS_FILE} を読めません", f"{WEIGHTS_FILE} is unreadable"
        ) from exc
    if tensor.ndim != 2 or tensor.shape[0] == 0 or tensor.shape[1] == 0:
        raise ModelFolderIncomplete(
            folder,
            f"{EMBEDDINGS_TENSOR} が2次元ではありません（形 {tensor.shape}）",
            f"{EMBEDDINGS_TENSOR} is not a 2-D tensor (shape {tensor.shape})",
        )
    if not np.issubdtype(tensor.dtype, np.floating):
        raise ModelFolderIncomplete(
            folder,
            f"{EMBEDDINGS_TENSOR} が浮動小数点ではありません（{tensor.dtype}）",
            f"{EMBEDDINGS_TENSOR} is not floating point ({tensor.dtype})",
        )
    result: NDArray[np.float32] = np.ascontiguousarray(tensor, dtype=np.float32)
    return result


def _model_key(folder: Path) -> str:
    """Identity of the vectors this model makes: both files decide them, so both are hashed.
    A different copy of the same model gets the same key; any change gets a new one."""
    digest = hashlib.sha256()
    for name in (WEIGHTS_FILE, TOKENIZER_FILE):
        with (folder / name).open("rb") as file:
            for chunk in iter(lambda: file.read(1 << 20), b""):
                digest.update(chunk)
    return "static-" + digest.hexdigest()[:16]


def _unknown_token_id(tokenizer: Tokenizer) -> int | None:
    """The id the tokenizer gives to what it does not know, left out of the mean as model2vec
    does (its row carries no meaning and would pull unrelated texts together)."""
    model = json.loads(tokenizer.to_str()).get("model", {})
    if isinstance(model.get("unk_id"), int):  # Unigram
        return int(model["unk_id"])
    token = model.get("unk_token")  # WordPiece, WordLevel, BPE
    if isinstance(token, str):
        found = tokenizer.token_to_id(token)
        return int(found) if found is not None else None
    return None
