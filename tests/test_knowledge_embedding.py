"""Meaning-based search: the static embedding model read from a folder, the vectors kept per
entry and searched by cosine, and reciprocal rank fusion of several rankings."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.knowledge.embedding import (
    BATCH_SIZE,
    EmbeddingModel,
    EmbeddingUnavailable,
    ModelFolderIncomplete,
    load_model,
)
from bot.knowledge.fusion import reciprocal_rank_fusion
from bot.services.knowledge import vectors
from models import EntryKind, EntryStatus, KnowledgeEntry, KnowledgeVector
from tests.support.tiny_embedding import build_tiny_model

# 在宅勤務 and テレワーク mean the same; in the tiny model each character of the first shares
# the row of one of the second, as a trained model would put them close together.
TELEWORK_TIE = {"在": "テ", "宅": "レ", "勤": "ワ", "務": "ク"}


@pytest.fixture
def tiny(tmp_path: Path) -> EmbeddingModel:
    return load_model(build_tiny_model(tmp_path / "tiny"))


@pytest.fixture
def tied(tmp_path: Path) -> EmbeddingModel:
    # More dimensions than the default, so that unrelated texts are clearly apart.
    return load_model(build_tiny_model(tmp_path / "tied", dims=64, tie=TELEWORK_TIE))


# ---- the model ---------------------------------------------------------------------------


def test_a_built_model_embeds_texts_as_normalised_float32_rows(tiny: EmbeddingModel) -> None:
    assert tiny.dims == 16
    embedded = tiny.embed(["申請書の提出", "VPN接続の設定", "申請書の提出"])
    assert embedded.shape == (3, 16)
    assert embedded.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embedded, axis=1), 1.0, rtol=1e-6)
    assert np.array_equal(embedded[0], embedded[2])  # the same text, the same vector
    assert not np.allclose(embedded[0], embedded[1])
    assert tiny.embed([]).shape == (0, 16)


def test_a_text_without_known_tokens_is_a_zero_vector(tiny: EmbeddingModel) -> None:
    embedded = tiny.embed(["", "   ", "😀🎉", "申請"])
    assert not embedded[:3].any()
    assert embedded[3].any()


def test_unknown_tokens_are_left_out_of_the_mean(tiny: EmbeddingModel) -> None:
    with_unknown, without = tiny.embed(["申請😀書", "申請書"])
    np.testing.assert_allclose(with_unknown, without, rtol=1e-6)


def test_full_width_latin_and_case_are_folded_by_the_tokenizer(tiny: EmbeddingModel) -> None:
    folded, plain = tiny.embed(["ＬＧＷＡＮ", "lgwan"])
    assert folded.any()
    np.testing.assert_allclose(folded, plain, rtol=1e-6)


def test_texts_beyond_one_batch_embed_as_they_do_alone(tiny: EmbeddingModel) -> None:
    texts = [f"申請{'書' * (i % 7)}の{i}" for i in range(BATCH_SIZE + 7)]
    together = tiny.embed(texts)
    alone = np.vstack([tiny.embed([text]) for text in texts])
    np.testing.assert_allclose(together, alone, rtol=1e-6)


def test_the_model_key_names_the_files_not_the_folder(tmp_path: Path) -> None:
    first = load_model(build_tiny_model(tmp_path / "a"))
    again = load_model(tmp_path / "a")
    copy = load_model(build_tiny_model(tmp_path / "b"))
    other = load_model(build_tiny_model(tmp_path / "c", tie={"申": "請"}))
    assert first.key == again.key == copy.key
    assert other.key != first.key
    assert first.key.startswith("static-")
    assert len(first.key) <= 64  # knowledge_vectors.model_key


# ---- a folder that cannot be used is refused, naming what is wrong -------------------------


def _remove(name: str) -> Callable[[Path], object]:
    return lambda folder: (folder / name).unlink()


def _write(name: str, content: bytes) -> Callable[[Path], object]:
    return lambda folder: (folder / name).write_bytes(content)


def _tensors(**tensors: np.ndarray) -> Callable[[Path], object]:
    return lambda folder: save_file(tensors, str(folder / "model.safetensors"))


def _fewer_rows(folder: Path) -> None:
    save_file(
        {"embeddings": np.ones((10, 16), dtype=np.float32)}, str(folder / "model.safetensors")
    )


INCOMPLETE = {
    "tokenizer missing": (_remove("tokenizer.json"), "missing tokenizer.json"),
    "weights missing": (_remove("model.safetensors"), "missing model.safetensors"),
    "tokenizer unreadable": (
        _write("tokenizer.json", b"{not json"),
        "tokenizer.json is unreadable",
    ),
    "weights unreadable": (
        _write("model.safetensors", b"\x00garbage"),
        "model.safetensors is unreadable",
    ),
    "tensor missing": (
        _tensors(weights=np.ones((500, 16), dtype=np.float32)),
        "model.safetensors has no tensor embeddings",
    ),
    "tensor not 2-D": (
        _tensors(embeddings=np.ones(500, dtype=np.float32)),
        "embeddings is not a 2-D tensor",
    ),
    "tensor not floats": (
        _tensors(embeddings=np.ones((500, 16), dtype=np.int32)),
        "embeddings is not floating point",
    ),
    "vocabulary beyond the rows": (_fewer_rows, "exceeds the rows of embeddings (10)"),
    "config unreadable": (_write("config.json", b"normalize: yes"), "config.json is unreadable"),
    "config malformed": (
        _write("config.json", json.dumps({"normalize": "yes"}).encode()),
        "config.json is malformed",
    ),
}


@pytest.mark.parametrize("case", INCOMPLETE)
def test_an_incomplete_folder_is_refused_naming_the_part(tmp_path: Path, case: str) -> None:
    damage, named = INCOMPLETE[case]
    folder = build_tiny_model(tmp_path / "model")
    damage(folder)
    with pytest.raises(ModelFolderIncomplete) as refused:
        load_model(folder)
    message = str(refused.value)
    assert message.startswith("埋め込みモデルのフォルダが不完全です（")
    assert " / The embedding model folder is incomplete (" in message
    assert named in message
    assert str(folder) in message


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFolderIncomplete, match=r"フォルダがありません.*does not exist"):
        load_model(tmp_path / "nowhere")


def test_a_folder_without_config_is_accepted(tmp_path: Path) -> None:
    folder = build_tiny_model(tmp_path / "model")
    (folder / "config.json").unlink()
    assert load_model(folder).dims == 16


def test_without_the_libraries_loading_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = build_tiny_model(tmp_path / "model")
    monkeypatch.setitem(sys.modules, "safetensors", None)  # import now raises ImportError
    with pytest.raises(EmbeddingUnavailable, match=r"kyoso\[embedding\]"):
        load_model(folder)


def test_the_modules_import_without_numpy() -> None:
    code = (
        "import sys\n"
        "sys.modules['numpy'] = sys.modules['tokenizers'] = sys.modules['safetensors'] = None\n"
        "import bot.knowledge.embedding, bot.knowledge.fusion, bot.knowledge.generated\n"
        "import bot.services.knowledge.vectors\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)


# ---- vectors in the database ---------------------------------------------------------------


def _add_entry(
    session: Session,
    clock: FixedClock,
    key: str,
    *,
    title: str,
    answer: str,
    status: EntryStatus = EntryStatus.ACTIVE,
) -> int:
    now = clock.now()
    entry = KnowledgeEntry(
        source_key=f"faq:{key}",
        kind=EntryKind.FAQ,
        status=status,
        title=title,
        question=title,
        answer=answer,
        tags=[],
        masked_kinds=[],
        answered_at=now,
        search_keys="",
        created_at=now,
        updated_at=now,
    )
    session.add(entry)
    session.flush()
    return entry.id


def _texts(session: Session, ids: list[int]) -> list[tuple[int, str]]:
    entries = session.scalars(select(KnowledgeEntry).where(KnowledgeEntry.id.in_(ids)))
    return [(entry.id, vectors.embedding_text(entry)) for entry in entries]


def test_embedding_text_holds_title_question_answer_and_tags(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    with session_factory.begin() as session:
        entry_id = _add_entry(session, clock, "tags", title="題名", answer="回答")
        entry = session.get_one(KnowledgeEntry, entry_id)
        entry.question = "質問"
        entry.tags = ["タグ一", "タグ二"]
        text = vectors.embedding_text(entry)
    for part in ("題名", "質問", "回答", "タグ一", "タグ二"):
        assert part in text


def test_missing_lists_active_entries_without_a_current_vector(
    session_factory: SessionFactory, clock: FixedClock, tiny: EmbeddingModel, tied: EmbeddingModel
) -> None:
    with session_factory.begin() as session:
        first = _add_entry(session, clock, "a", title="申請の窓口", answer="所属課です")
        second = _add_entry(session, clock, "b", title="提出期限", answer="月末です")
        third = _add_entry(session, clock, "c", title="様式", answer="共通様式です")
        _add_entry(session, clock, "d", title="古い", answer="削除済", status=EntryStatus.REMOVED)

        assert vectors.missing(session, model=tiny, limit=10) == [first, second, third]
        assert vectors.missing(session, model=tiny, limit=2) == [first, second]

        assert (
            vectors.store(
                session, model=tiny, entries=_texts(session, [first, second]), clock=clock
            )
            == 2
        )
        assert vectors.missing(session, model=tiny, limit=10) == [third]
        # Another model's vectors are not this model's: all are missing for it.
        assert vectors.missing(session, model=tied, limit=10) == [first, second, third]

        # An entry changed after its vector was made needs a new one.
        clock.advance(timedelta(minutes=5))
        session.get_one(KnowledgeEntry, second).updated_at = clock.now()
        session.flush()
        assert vectors.missing(session, model=tiny, limit=10) == [second, third]

        assert vectors.embed_missing(session, model=tiny, clock=clock, limit=10) == 2
        assert vectors.missing(session, model=tiny, limit=10) == []


def test_store_writes_float32_bytes_and_replaces_an_earlier_vector(
    session_factory: SessionFactory, clock: FixedClock, tiny: EmbeddingModel, tied: EmbeddingModel
) -> None:
    with session_factory.begin() as session:
        entry_id = _add_entry(session, clock, "a", title="申請の窓口", answer="所属課です")
        vectors.store(session, model=tiny, entries=[(entry_id, "申請の窓口")], clock=clock)
        row = session.get_one(KnowledgeVector, entry_id)
        stored = np.frombuffer(row.vector, dtype=np.float32)
        np.testing.assert_array_equal(stored, tiny.embed(["申請の窓口"])[0])
        assert (row.model_key, row.updated_at) == (tiny.key, clock.now())

        clock.advance(timedelta(hours=1))
        vectors.store(session, model=tied, entries=[(entry_id, "提出期限")], clock=clock)
        session.expire_all()
        rows = session.scalars(select(KnowledgeVector)).all()
        assert len(rows) == 1
        assert (rows[0].model_key, rows[0].updated_at) == (tied.key, clock.now())
        assert len(rows[0].vector) == tied.dims * 4
        np.testing.assert_array_equal(
            np.frombuffer(rows[0].vector, dtype=np.float32), tied.embed(["提出期限"])[0]
        )
        assert vectors.store(session, model=tied, entries=[], clock=clock) == 0


def _telework_entries(session: Session, clock: FixedClock) -> dict[str, int]:
    texts = {
        "telework": ("テレワークの申請", "所属課に届け出ます"),
        "expenses": ("旅費の精算", "領収書を添えて請求します"),
        "drill": ("防災訓練の予定", "毎年九月に実施します"),
    }
    ids = {
        name: _add_entry(session, clock, name, title=title, answer=answer)
        for name, (title, answer) in texts.items()
    }
    for title, answer in texts.values():
        assert not set("在宅勤務") & set(title + answer)  # the query's words are in no entry
    return ids


def test_nearest_finds_an_entry_by_meaning_when_no_word_matches(
    session_factory: SessionFactory, clock: FixedClock, tied: EmbeddingModel
) -> None:
    with session_factory.begin() as session:
        ids = _telework_entries(session, clock)
        vectors.embed_missing(session, model=tied, clock=clock, limit=10)

        found = vectors.nearest(session, model=tied, query="在宅勤務", limit=3)
        assert found[0][0] == ids["telework"]
        assert found[0][1] > 0.5
        assert all(score > 0 for _, score in found)
        assert [score for _, score in found] == sorted((s for _, s in found), reverse=True)
        assert len(vectors.nearest(session, model=tied, query="在宅勤務", limit=1)) == 1
        assert vectors.nearest(session, model=tied, query="😀", limit=3) == []
        assert vectors.nearest(session, model=tied, query="在宅勤務", limit=0) == []

        # A removed entry is not found, even from the matrix already cached.
        session.get_one(KnowledgeEntry, ids["telework"]).status = EntryStatus.REMOVED
        session.flush()
        found = vectors.nearest(session, model=tied, query="在宅勤務", limit=3)
        assert ids["telework"] not in [entry_id for entry_id, _ in found]


def test_nearest_sees_only_vectors_of_its_own_model(
    session_factory: SessionFactory, clock: FixedClock, tiny: EmbeddingModel, tied: EmbeddingModel
) -> None:
    with session_factory.begin() as session:
        _telework_entries(session, clock)
        vectors.embed_missing(session, model=tiny, clock=clock, limit=10)
        assert vectors.nearest(session, model=tied, query="在宅勤務", limit=3) == []


def test_the_matrix_is_cached_until_the_vectors_change(
    session_factory: SessionFactory,
    clock: FixedClock,
    tied: EmbeddingModel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loads: list[int] = []
    real_load = vectors._load

    def counting_load(*args: object, **kwargs: object) -> object:
        loads.append(1)
        return real_load(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(vectors, "_load", counting_load)
    with session_factory.begin() as session:
        ids = _telework_entries(session, clock)
        del ids["telework"]
        vectors.store(session, model=tied, entries=_texts(session, list(ids.values())), clock=clock)

        for _ in range(3):
            vectors.nearest(session, model=tied, query="在宅勤務", limit=3)
        assert len(loads) == 1

        # A vector stored here is found at once.
        clock.advance(timedelta(minutes=1))
        telework = session.scalar(
            select(KnowledgeEntry.id).where(KnowledgeEntry.source_key == "faq:telework")
        )
        assert telework is not None
        vectors.store(session, model=tied, entries=_texts(session, [telework]), clock=clock)
        assert vectors.nearest(session, model=tied, query="在宅勤務", limit=1)[0][0] == telework
        assert len(loads) == 2

        # A vector written by another process is seen through the version stamp.
        clock.advance(timedelta(minutes=1))
        other = _add_entry(session, clock, "other", title="在宅勤務の手続", answer="届け出ます")
        session.add(
            KnowledgeVector(
                entry_id=other,
                model_key=tied.key,
                vector=tied.embed(["在宅勤務の手続"])[0].tobytes(),
                updated_at=clock.now(),
            )
        )
        session.flush()
        assert vectors.nearest(session, model=tied, query="在宅勤務", limit=1)[0][0] == other
        assert len(loads) == 3
        vectors.nearest(session, model=tied, query="在宅勤務", limit=1)
        assert len(loads) == 3


# ---- reciprocal rank fusion --------------------------------------------------------------


def test_fusion_of_one_ranking_keeps_its_order() -> None:
    assert reciprocal_rank_fusion([[4, 2, 9]]) == [4, 2, 9]
    assert reciprocal_rank_fusion([]) == []
    assert reciprocal_rank_fusion([[], []]) == []


def test_fusion_favours_ids_ranked_well_by_both() -> None:
    # 1: 1/61 + 1/62; 3: 1/63 + 1/61; 2: 1/62; 4: 1/63
    assert reciprocal_rank_fusion([[1, 2, 3], [3, 1, 4]]) == [1, 3, 2, 4]


def test_fusion_ties_go_to_the_first_rankings_order() -> None:
    assert reciprocal_rank_fusion([[1, 2], [2, 1]]) == [1, 2]
    assert reciprocal_rank_fusion([[7, 5], [5, 7]]) == [7, 5]
    # Three rankings, the same places in another order: still an exact tie.
    assert reciprocal_rank_fusion([[1, 2, 3], [2, 3, 1], [3, 1, 2]]) == [1, 2, 3]
    # Ids absent from the first ranking tie in the order they first appear after it.
    assert reciprocal_rank_fusion([[1], [8, 9], [9, 8]]) == [8, 9, 1]


def test_fusion_weights_and_k() -> None:
    assert reciprocal_rank_fusion([[1, 2], [2, 1]], weights=[1.0, 3.0]) == [2, 1]
    # A small k lets a first place outweigh two second places; the usual 60 does not.
    assert reciprocal_rank_fusion([[1, 2, 3], [3, 2]], k=0) == [3, 1, 2]
    assert reciprocal_rank_fusion([[1, 2, 3], [3, 2]]) == [3, 2, 1]


def test_fusion_counts_a_repeated_id_once_per_ranking() -> None:
    assert reciprocal_rank_fusion([[1, 1, 1, 2], [2]]) == [2, 1]
    # The repeats do not push 2 down: it ties with 3, second in the other ranking.
    assert reciprocal_rank_fusion([[1, 1, 2], [1, 3]]) == [1, 2, 3]


def test_fusion_refuses_mismatched_weights_and_negative_k() -> None:
    with pytest.raises(ValueError, match="one weight per ranking"):
        reciprocal_rank_fusion([[1], [2]], weights=[1.0])
    with pytest.raises(ValueError, match="negative"):
        reciprocal_rank_fusion([[1]], k=-1)
