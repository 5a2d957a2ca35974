"""A watch whose head keeps learning: real ONNX heads trained from real verdicts on real photo
embeddings, versions in a model-registry folder, a better candidate made active and a worse one
rejected with its reason."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from mist_qgis.core.live.learning import HeadLearner, cv_f1
from mist_qgis.core.live.watch import WatchOptions, watch
from mist_qgis.core.models.registry import ModelRegistry
from mist_qgis.core.models.runtime import read_card
from mist_qgis.core.store import live_sql
from tests.helpers.modelkit import learning_store, verdicts_by_blueness
from tests.live_kit import mixed_lines


def test_watch_retrains_keeps_the_better_head_and_rejects_a_worse_one(store, tmp_path: Path):
    colour, fids, first = learning_store(store, tmp_path)
    heads = tmp_path / "registry" / "live-heads"
    stream = tmp_path / "stream.jsonl"
    stream.write_text(mixed_lines(0, 3))

    def run(max_posts: int):
        return watch(store, WatchOptions(
            [str(stream)], head=str(first.path), interval_s=0.05, max_posts=max_posts, fetch_media=False,
            learn_every=10, heads_dir=heads, resolve_model=lambda tag: colour))

    quiet = run(3)  # 40 verdicts, as the head learnt from: nothing to retrain
    assert quiet.counts["heads_trained"] == 0 and quiet.counts["classified"] == 60
    assert "flood-head@1 is active: the head the watch started with" in quiet.message

    # 20 more, all right: the candidate learns from 60 verdicts, 4 wrong, and is not worse
    verdicts_by_blueness(store, fids[40:], day=2)
    with open(stream, "a") as fh:
        fh.write(mixed_lines(3, 2))
    better = run(2)
    assert better.counts["heads_trained"] == 1 and better.counts["heads_rejected"] == 0
    versions = live_sql.head_versions(store, "flood-head")
    assert [(v[1], v[5]) for v in versions] == [("flood-head@1", "retired"), ("flood-head@1.1", "active")]
    assert versions[1][3] == 60 and versions[1][4] >= cv_f1(first.card.extra["cv_metrics"])
    assert "flood-head@1.1 active: cross-validated F1" in better.message
    assert store.runs("train_head")[-1].status == "done"  # trained in the background, recorded as any head
    registry = ModelRegistry([("user", heads.parent)])
    assert registry.resolve("flood-head").card.tag == "flood-head@1.1"

    # 10 verdicts changed to the wrong answer: the candidate is worse, the active head stays
    verdicts_by_blueness(store, fids[1:60:6], flip=set(fids), day=3)
    with open(stream, "a") as fh:
        fh.write(mixed_lines(5, 2))
    worse = run(2)
    assert store.scalar("SELECT scored FROM head_versions WHERE model = 'flood-head@1.1'") == 60  # rescreened
    assert store.count("posts", "cls_model = 'flood-head@1.1'") == 60
    assert worse.counts["heads_trained"] == 1 and worse.counts["heads_rejected"] == 1
    versions = live_sql.head_versions(store, "flood-head")
    assert [v[5] for v in versions] == ["retired", "active", "rejected"]
    assert "worse than flood-head@1.1's" in versions[2][6]
    assert "flood-head@1.1 is active; flood-head@1.2 rejected" in worse.message
    assert (heads / "rejected" / "flood-head-1.2.onnx").is_file()
    assert read_card(heads / "rejected" / "flood-head-1.2.onnx").version == "1.2"
    assert registry.refresh() and registry.resolve("flood-head").card.tag == "flood-head@1.1"
    active, rejected = live_sql.head_state(store)
    assert active[1] == "flood-head@1.1" and rejected[1] == "flood-head@1.2"

    # 20 more wrong verdicts: the candidate shows no skill beyond chance, and is rejected for that
    verdicts_by_blueness(store, fids[3:60:3], flip=set(fids), day=4)
    with open(stream, "a") as fh:
        fh.write(mixed_lines(7, 2))
    assert run(2).counts["heads_rejected"] == 1
    reason = live_sql.head_versions(store, "flood-head")[-1][6]
    assert reason.startswith("rejected, flood-head@1.1 stays: no skill beyond chance"), reason

    # a restart goes on with the active version, not the file it was started with
    learner = HeadLearner(store, first.path, 10, heads)
    assert learner.tag == "flood-head@1.1" and not learner.due(store)
    # without learning, the head the user chose screens, recorded once as the active version
    fixed = HeadLearner(store, first.path, 0, heads)
    assert fixed.tag == "flood-head@1" and not fixed.due(store)
    versions = live_sql.head_versions(store, "flood-head")
    assert [v[1] for v in versions].count("flood-head@1") == 1
    assert [v[1] for v in versions if v[5] == "active"] == ["flood-head@1"]


def test_a_training_that_fails_leaves_the_active_head_and_the_watch_running(store, tmp_path: Path):
    _, fids, first = learning_store(store, tmp_path)
    verdicts_by_blueness(store, fids[40:], day=2)
    not_a_folder = tmp_path / "heads"
    not_a_folder.write_text("a file where the versions should go")
    stream = tmp_path / "stream.jsonl"
    stream.write_text(mixed_lines(0, 2))
    result = watch(store, WatchOptions([str(stream)], head=str(first.path), interval_s=0.05, max_posts=2,
                                       fetch_media=False, learn_every=10, heads_dir=not_a_folder))
    assert result.status == "done" and result.counts["imported"] == 2
    assert result.counts["heads_trained"] == 1 and result.counts["heads_rejected"] == 1
    version = live_sql.head_versions(store, "flood-head")[-1]
    assert version[1] == "flood-head@1.1" and version[5] == "rejected" and version[6].startswith("not trained: ")
    assert store.runs("train_head")[-1].status == "failed"
    assert "flood-head@1 is active; flood-head@1.1 not trained" in result.message


def test_the_verdict_count_is_read_once_per_check_and_not_again_before_check_s(store, tmp_path: Path, monkeypatch):
    from mist_qgis.core.live import learning

    _, fids, first = learning_store(store, tmp_path)
    reads = []
    verdict_count = live_sql.verdict_count

    def counted(target):
        reads.append(1)
        return verdict_count(target)

    monkeypatch.setattr(live_sql, "verdict_count", counted)
    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(learning, "time", SimpleNamespace(monotonic=lambda: clock.now))  # the learner's clock only
    learner = HeadLearner(store, first.path, 10, tmp_path / "heads")
    # nothing due (40 verdicts, as the head learnt from): looked at once, then not until CHECK_S passed
    assert learner.step(store, None) is None and learner.step(store, None) is None
    assert len(reads) == 1
    verdicts_by_blueness(store, fids[40:], day=2)
    assert learner.step(store, None) is None and len(reads) == 1  # the throttle holds while something is due
    clock.now = 1000.0 + learning.CHECK_S / 2
    assert learner.step(store, None) is None and len(reads) == 1
    clock.now = 1000.0 + learning.CHECK_S
    # due now: the count is read once for the decision and the training it starts
    assert learner.step(store, None) is None and len(reads) == 2
    decision = learner.finish(store, None)
    learner.close()
    assert decision is not None and decision.candidate == "flood-head@1.1"
    assert live_sql.head_versions(store, "flood-head")[-1][3] == 60 and len(reads) == 2
