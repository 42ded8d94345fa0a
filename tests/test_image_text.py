"""The open_clip image–text path, end to end, with a tiny checkpoint the tests build and save.

No CLIP weights can be had offline, so a two-layer ViT/text tower registered as an open_clip
model config is saved to disk and loaded through the same code a real checkpoint takes.
Random weights give low recalls; the tests check loading, preprocessing, batching and the
recall arithmetic, not retrieval quality.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from litsynth.config import ModelSpec, Settings, load_catalog
from litsynth.evaluation import cli_image_text
from litsynth.evaluation.image_text import CocoCaptions, DatasetError, evaluate_image_text, load_coco_captions
from litsynth.models import image_text
from litsynth.models.image_text import ImageTextEncoder, UnreadableImage, load_image_text_encoder
from litsynth.models.text_encoder import ModelUnavailable
from litsynth.models.torch_compat import ensure_torchvision_importable

REPO_ROOT = Path(__file__).resolve().parents[1]
TINY = "litsynth-test-tiny-clip"
TINY_CONFIG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "head_width": 32, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}
TINY_SPEC = ModelSpec(
    id="tiny-clip", family="open_clip", architecture=TINY, local_path="var/models/tiny-clip/absent.safetensors", dim=32, max_seq_length=77
)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    """The tiny model's random weights saved both ways open_clip reads: safetensors and a torch state dict."""
    torch.set_num_threads(1)
    ensure_torchvision_importable()
    import open_clip
    from safetensors.torch import save_file

    folder = tmp_path_factory.mktemp("tiny_clip")
    (folder / f"{TINY}.json").write_text(json.dumps(TINY_CONFIG), encoding="utf-8")
    open_clip.add_model_config(folder)
    torch.manual_seed(0)
    state = open_clip.create_model(TINY).state_dict()
    paths = {"safetensors": folder / "tiny.safetensors", "bin": folder / "open_clip_pytorch_model.bin"}
    save_file({name: tensor.contiguous() for name, tensor in state.items()}, paths["safetensors"])
    torch.save(state, paths["bin"])
    return paths


@pytest.fixture(scope="module")
def encoder(checkpoints) -> ImageTextEncoder:
    return load_image_text_encoder(TINY_SPEC, REPO_ROOT, checkpoint=checkpoints["safetensors"])


@pytest.fixture(scope="module")
def coco(shared_data) -> CocoCaptions:
    return load_coco_captions(shared_data / "coco_mini" / "captions.json", shared_data / "coco_mini" / "images")


@pytest.mark.parametrize("kind", ["safetensors", "bin"])
def test_checkpoint_weights_are_the_saved_ones(checkpoints, kind):
    loaded = load_image_text_encoder(TINY_SPEC, REPO_ROOT, checkpoint=checkpoints[kind])
    if kind == "safetensors":
        from safetensors.torch import load_file

        saved = load_file(checkpoints[kind])
    else:
        saved = torch.load(checkpoints[kind], weights_only=True)
    state = loaded.model.state_dict()
    assert state.keys() == saved.keys()
    assert all(torch.equal(state[name], saved[name]) for name in saved)
    assert loaded.source == str(checkpoints[kind])
    assert not loaded.model.training


def test_catalog_local_path_is_used(checkpoints):
    spec = TINY_SPEC.model_copy(update={"local_path": str(checkpoints["bin"]), "model_dirs": (str(checkpoints["bin"].parent),)})
    assert load_image_text_encoder(spec, REPO_ROOT).source == str(checkpoints["bin"])


def test_text_vectors_are_unit_and_batching_does_not_change_them(encoder):
    texts = ["a dog on a beach", "two people riding bicycles down a street", "", "A plane floating on top of a lake."]
    batched = encoder.encode_text(texts, batch_size=64)
    single = np.concatenate([encoder.encode_text([t]) for t in texts])
    assert batched.shape == (4, 32) and batched.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(batched, single, atol=1e-5)
    assert encoder.encode_text([]).shape == (0, 32)


def test_images_go_through_open_clip_preprocess(encoder, checkpoints, coco):
    import open_clip

    paths = coco.image_paths[:5]
    seen = []
    preprocess = encoder.preprocess

    def spy(image):
        pixels = preprocess(image)
        seen.append(tuple(pixels.shape))
        return pixels

    encoder.preprocess = spy
    try:
        batched = encoder.encode_images(paths, batch_size=2)
    finally:
        encoder.preprocess = preprocess
    assert seen == [(3, 32, 32)] * 5  # the config's image_size, whatever the JPEG's size
    assert batched.shape == (5, 32)
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(batched, np.concatenate([encoder.encode_images([p]) for p in paths]), atol=1e-5)

    # open_clip's own reference path gives the same vectors
    model, _, reference_preprocess = open_clip.create_model_and_transforms(TINY, pretrained=str(checkpoints["bin"]), weights_only=True)
    model.eval()
    with torch.inference_mode():
        from PIL import Image

        pixels = torch.stack([reference_preprocess(Image.open(p).convert("RGB")) for p in paths])
        expected = model.encode_image(pixels, normalize=True).numpy()
    np.testing.assert_allclose(batched, expected, atol=1e-5)


def test_count_tokens_reports_truncation(encoder):
    assert encoder.context_length == 77
    assert encoder.count_tokens("a dog") == 4  # start, "a", "dog", end
    long_text = " ".join(["dog"] * 100)
    assert encoder.count_tokens(long_text) == 102 > encoder.context_length


def test_unreadable_image_is_named(encoder, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a jpeg")
    with pytest.raises(UnreadableImage, match="broken.jpg"):
        encoder.encode_images([bad])
    with pytest.raises(UnreadableImage, match="absent.jpg"):
        encoder.encode_images([tmp_path / "absent.jpg"])


def test_missing_checkpoint_offline_says_how_to_fix(monkeypatch, tmp_path):
    monkeypatch.setattr(image_text, "hub_reachable", lambda: False)
    spec = load_catalog(REPO_ROOT / "models.yaml").get("clip-vit-b-32")
    with pytest.raises(ModelUnavailable) as caught:
        load_image_text_encoder(spec, tmp_path)
    assert str(caught.value) == (
        "clip-vit-b-32: no local checkpoint at var/models/clip-vit-b-32/open_clip_pytorch_model.bin; "
        "pretrained 'laion2b_s34b_b79k' needs the network. Fix: put the open_clip checkpoint there or pass --checkpoint"
    )
    with pytest.raises(ModelUnavailable, match="nowhere.bin not found"):
        load_image_text_encoder(spec, tmp_path, checkpoint=tmp_path / "nowhere.bin")


@pytest.mark.parametrize("name", ["garbage.bin", "garbage.safetensors"])
def test_corrupt_checkpoint_is_a_clear_error(checkpoints, tmp_path, name):
    bad = tmp_path / name
    bad.write_bytes(b"this is not a checkpoint")
    with pytest.raises(ModelUnavailable, match=rf"tiny-clip: could not load .*{name} into {TINY}"):
        load_image_text_encoder(TINY_SPEC, REPO_ROOT, checkpoint=bad)


def test_checkpoint_that_would_run_code_is_refused(checkpoints, tmp_path):
    marker = tmp_path / "code-ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    evil = tmp_path / "evil.pt"
    torch.save({"state_dict": torch.load(checkpoints["bin"], weights_only=True), "extra": Payload()}, evil)
    with pytest.raises(ModelUnavailable, match="weights_only=True"):
        load_image_text_encoder(TINY_SPEC, REPO_ROOT, checkpoint=evil)
    assert not marker.exists()


def test_catalog_dim_must_match_the_model(checkpoints):
    from litsynth.config import ConfigError

    with pytest.raises(ConfigError, match="gives 32-d vectors"):
        load_image_text_encoder(TINY_SPEC.model_copy(update={"dim": 512}), REPO_ROOT, checkpoint=checkpoints["bin"])


def test_coco_mini_recalls(encoder, coco):
    assert len(coco.image_paths) == 79 and len(coco.captions) == 395
    result = evaluate_image_text(coco, encoder)
    for direction in ("text_to_image", "image_to_text"):
        assert list(result[direction]) == ["recall@1", "recall@5", "recall@10"]
        values = list(result[direction].values())
        assert all(0.0 <= v <= 1.0 for v in values) and values == sorted(values)
    assert result["counts"]["text_queries"] == 395
    assert result["counts"]["image_queries"] == 79
    assert result["counts"]["context_length"] == 77
    assert result["seconds"]["total"] > 0


class FixedVectors:
    """An encoder that returns chosen vectors, so recalls can be worked out by hand."""

    context_length = 77

    def __init__(self, images: np.ndarray, texts: np.ndarray) -> None:
        self.images, self.texts = images, texts

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2

    def encode_text(self, texts, batch_size=64):
        return self.texts

    def encode_images(self, paths, batch_size=32):
        return self.images


def test_hand_built_recalls():
    # Images are the axes e0, e1, e2. Caption c0 (image 0) points at image 0; c1 (image 0) at image 1 then 0;
    # c2 (image 1) at image 2 then 1; c3 (image 2) at image 0 then 2, then 1.
    images = np.eye(3, dtype=np.float32)
    texts = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [0.0, 0.6, 0.8], [0.8, 0.1, 0.59]], dtype=np.float32)
    dataset = CocoCaptions(Path("c.json"), Path("."), [10, 11, 12], [Path("a"), Path("b"), Path("c")], ["c0", "c1", "c2", "c3 " + "w " * 80], [0, 0, 1, 2])
    result = evaluate_image_text(dataset, FixedVectors(images, texts), ks=(1, 2, 3))
    # text→image rankings (rows): c0: 0,1,2 (hit at 1); c1: 1,0,2; c2: 2,1,0; c3: 0,2,1 (each hit at 2).
    assert result["text_to_image"] == {"recall@1": 0.25, "recall@2": 1.0, "recall@3": 1.0}
    # image→text rankings (columns): image 0: c0, c3, c1 (its c0 at 1); image 1: c1, c2 (its c2 at 2);
    # image 2: c2, c3 (its c3 at 2).
    assert result["image_to_text"] == {"recall@1": pytest.approx(1 / 3), "recall@2": 1.0, "recall@3": 1.0}
    assert result["counts"] == {
        "images": 3, "captions": 4, "text_queries": 4, "image_queries": 3, "captions_truncated": 1, "context_length": 77,
    }


def _write_coco(folder: Path, images: list[dict], annotations: list[dict]) -> Path:
    path = folder / "captions.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations}), encoding="utf-8")
    return path


def test_coco_loader_errors_name_the_problem(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"")
    with pytest.raises(DatasetError, match="missing.json: file not found"):
        load_coco_captions(tmp_path / "missing.json", tmp_path)
    gone = _write_coco(tmp_path, [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "gone.jpg"}], [{"image_id": 1, "caption": "x"}])
    with pytest.raises(DatasetError, match=r"1 of 2 images .* missing, e\.g\. \['gone\.jpg'\]"):
        load_coco_captions(gone, tmp_path)
    unknown = _write_coco(tmp_path, [{"id": 1, "file_name": "a.jpg"}], [{"image_id": 7, "caption": "x"}])
    with pytest.raises(DatasetError, match=r"annotations\[0\]\.image_id': 7 is not an id"):
        load_coco_captions(unknown, tmp_path)
    no_caption = _write_coco(tmp_path, [{"id": 1, "file_name": "a.jpg"}], [{"image_id": 1}])
    with pytest.raises(DatasetError, match=r"'annotations\[0\]' needs keys \['image_id', 'caption'\]"):
        load_coco_captions(no_caption, tmp_path)


def _cli(argv: list[str], project: Path = REPO_ROOT) -> int:
    parser = argparse.ArgumentParser()
    cli_image_text.add_parser(parser.add_subparsers(dest="eval_command"))
    args = parser.parse_args(argv)
    return args.handler(args, Settings.load(project))


def test_cli_writes_results(checkpoints, shared_data, tmp_path, capsys):
    out = tmp_path / "results" / "tiny.json"
    coco_dir = shared_data / "coco_mini"
    catalog = tmp_path / "models.yaml"
    catalog.write_text(
        "selection_model: tiny-clip\nmodels:\n"
        f"  - {{id: tiny-clip, family: open_clip, architecture: {TINY}, local_path: absent.bin, dim: 32, max_seq_length: 77}}\n",
        encoding="utf-8",
    )
    argv = ["image-text", "--captions", str(coco_dir / "captions.json"), "--images", str(coco_dir / "images"), "--model", "tiny-clip"]
    code = _cli([*argv, "--checkpoint", str(checkpoints["safetensors"]), "--models-file", str(catalog), "--out", str(out)])
    assert code == 0
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["model"] == "tiny-clip" and written["weights"] == str(checkpoints["safetensors"])
    assert written["counts"]["text_queries"] == 395 and written["counts"]["image_queries"] == 79
    assert set(written["text_to_image"]) == {"recall@1", "recall@5", "recall@10"}
    assert "wrote" in capsys.readouterr().out


def test_cli_offline_without_checkpoint_writes_nothing(monkeypatch, shared_data, tmp_path, capsys):
    monkeypatch.setattr(image_text, "hub_reachable", lambda: False)
    coco_dir = shared_data / "coco_mini"
    out = tmp_path / "clip.json"
    code = _cli(
        ["image-text", "--captions", str(coco_dir / "captions.json"), "--images", str(coco_dir / "images"),
         "--model", "clip-vit-b-32", "--models-file", str(REPO_ROOT / "models.yaml"), "--out", str(out)],
        project=tmp_path,  # no var/models checkpoint there
    )
    assert code == 1
    assert "pretrained 'laion2b_s34b_b79k' needs the network" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob("*.partial"))


def _karpathy_from(coco_dir: Path, folder: Path, test_images: int) -> Path:
    """coco_mini rewritten as a Karpathy split file (dataset_coco.json): the first images in test."""
    data = json.loads((coco_dir / "captions.json").read_text(encoding="utf-8"))
    captions: dict[int, list[str]] = {}
    for annotation in data["annotations"]:
        captions.setdefault(annotation["image_id"], []).append(annotation["caption"])
    images = [
        {"filepath": "images", "filename": image["file_name"], "imgid": i, "cocoid": image["id"],
         "split": "test" if i < test_images else "train", "sentences": [{"raw": c, "tokens": c.lower().split()} for c in captions.get(image["id"], [])]}
        for i, image in enumerate(data["images"])
    ]
    path = folder / "dataset_coco.json"
    path.write_text(json.dumps({"images": images, "dataset": "coco"}), encoding="utf-8")
    return path


def test_karpathy_split_file_reads_like_the_coco_file(shared_data, coco, encoder, tmp_path):
    karpathy = _karpathy_from(shared_data / "coco_mini", tmp_path, test_images=50)
    everything = load_coco_captions(karpathy, shared_data / "coco_mini", split="all")
    assert everything.image_ids == coco.image_ids and everything.image_paths == coco.image_paths
    assert sorted(zip(everything.caption_image, everything.captions)) == sorted(zip(coco.caption_image, coco.captions))
    expected = evaluate_image_text(coco, encoder)
    found = evaluate_image_text(everything, encoder)
    for direction in ("text_to_image", "image_to_text"):
        assert found[direction] == pytest.approx(expected[direction])

    test = load_coco_captions(karpathy, shared_data / "coco_mini")  # a Karpathy file defaults to its test split
    assert test.split == "test" and test.image_ids == coco.image_ids[:50]
    assert len(test.captions) == sum(1 for i in coco.caption_image if i < 50) and max(test.caption_image) < 50
    assert evaluate_image_text(test, encoder)["counts"]["image_queries"] == len(set(test.caption_image))


def test_karpathy_and_split_errors_name_the_fix(shared_data, tmp_path):
    karpathy = _karpathy_from(shared_data / "coco_mini", tmp_path, test_images=50)
    with pytest.raises(DatasetError, match=r"no images in split 'val'; the file has \['test', 'train'\]"):
        load_coco_captions(karpathy, shared_data / "coco_mini", split="val")
    with pytest.raises(DatasetError, match=r"a COCO captions file has no splits, so --split test does not apply"):
        load_coco_captions(shared_data / "coco_mini" / "captions.json", shared_data / "coco_mini" / "images", split="test")
    broken = json.loads(karpathy.read_text())
    broken["images"][3]["sentences"][1] = {"tokens": ["a"]}
    karpathy.write_text(json.dumps(broken))
    with pytest.raises(DatasetError, match=r"'images\[3\]\.sentences\[1\]' needs key 'raw'"):
        load_coco_captions(karpathy, shared_data / "coco_mini")
    (tmp_path / "fresh").mkdir()
    karpathy = _karpathy_from(shared_data / "coco_mini", tmp_path / "fresh", test_images=50)
    flat = json.loads(karpathy.read_text())
    for image in flat["images"]:
        image.pop("filepath")
    karpathy.write_text(json.dumps(flat))
    with pytest.raises(DatasetError, match=r"50 of 50 images referenced by .* are missing"):
        load_coco_captions(karpathy, shared_data / "coco_mini")  # the files are under images/, and no filepath says so
