"""Configuration: a YAML file plus ``CAPMON_`` environment variables (``__`` nests), validated strictly.

Precedence, highest first: explicit arguments > environment > YAML file > secret files > defaults.
Unknown keys are rejected. Every problem becomes one ``ConfigError`` line naming file, key, problem.
"""

from __future__ import annotations

import contextvars
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from agent.errors import ConfigError
from probes.base import MAX_TOP

if TYPE_CHECKING:
    from probes.registry import Registry

Provider = Literal["openai", "openai-responses", "azure-openai", "anthropic", "gemini"]
#: Providers whose answers capmon can read as an event stream (``TargetConfig.stream``).
STREAMING_PROVIDERS: tuple[Provider, ...] = ("openai", "azure-openai")
#: Not in Prometheus' default port allocations list at the time of writing.
DEFAULT_LISTEN = "127.0.0.1:9787"

_yaml_path: contextvars.ContextVar[Path | None] = contextvars.ContextVar("capmon_yaml_path", default=None)


#: Context size assumed when a target sets no ``max_prompt_tokens`` (common to small local models).
DEFAULT_CONTEXT_TOKENS = 8192
_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")


def parse_levels(value: Any) -> list[int]:
    """Difficulty levels from ``"1-40"``, ``7``, ``"7"`` or a list mixing levels and ranges; sorted, unique.

    Raises ``ValueError`` (one line) on anything else or on a level outside 1..``MAX_TOP``.
    """
    parts = value if isinstance(value, list) else [value]
    out: set[int] = set()
    bounds = f"levels must be within 1..{MAX_TOP}"
    for part in parts:
        if isinstance(part, bool):
            raise ValueError(f"difficulty {part!r} is not a level or a range like '1-40'")
        if isinstance(part, int):
            lo = hi = part
        elif isinstance(part, str) and part.strip().isdigit():
            lo = hi = int(part)
        elif isinstance(part, str) and (m := _RANGE.match(part)):
            lo, hi = int(m.group(1)), int(m.group(2))
            if lo > hi:
                raise ValueError(f"difficulty range {part!r} runs backwards")
        else:
            raise ValueError(f"difficulty {part!r} is not a level or a range like '1-40'")
        if lo < 1 or hi > MAX_TOP:
            raise ValueError(f"difficulty {part!r} is out of bounds: {bounds}")
        out.update(range(lo, hi + 1))
    if not out:
        raise ValueError(f"difficulty levels must not be empty ({bounds})")
    return sorted(out)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetryConfig(_Strict):
    """Bounded retries with exponential backoff and full jitter; honours Retry-After."""

    attempts: int = Field(3, ge=1, le=10)
    base_delay_s: float = Field(0.5, gt=0)
    max_delay_s: float = Field(30.0, gt=0)


class CircuitConfig(_Strict):
    """Stop calling an endpoint after consecutive failed runs; try again after a cool-down."""

    failure_threshold: int = Field(5, ge=1)
    reset_after_s: float = Field(300.0, gt=0)


class BudgetConfig(_Strict):
    """Per-target spending limits; None means unlimited."""

    max_probes_per_hour: int | None = Field(None, ge=1)
    max_tokens_per_day: int | None = Field(None, ge=1)
    max_cost_per_day_usd: float | None = Field(None, gt=0)

    @property
    def any_limit(self) -> bool:
        """Whether any budget is set (probes then check it one by one)."""
        return any(
            v is not None for v in (self.max_probes_per_hour, self.max_tokens_per_day, self.max_cost_per_day_usd)
        )


class PriceConfig(_Strict):
    """Price per million tokens, for cost per correct answer and the cost budget."""

    input_per_mtok_usd: float = Field(0.0, ge=0)
    output_per_mtok_usd: float = Field(0.0, ge=0)


class TargetConfig(_Strict):
    """One monitored model endpoint."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    provider: Provider = "openai"
    base_url: AnyHttpUrl
    model: str = Field(min_length=1)
    api_key: SecretStr | None = None
    api_key_env: str | None = None
    api_key_file: Path | None = None
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    api_version: str | None = None
    timeout_s: float = Field(60.0, gt=0, le=3600)
    max_tokens: int = Field(256, ge=1, le=100_000)
    temperature: float = Field(0.0, ge=0, le=2)
    interval_s: float = Field(300.0, gt=0)
    jitter_s: float | None = Field(None, ge=0)
    probes_per_run: int = Field(20, ge=1, le=10_000)
    static_per_run: int = Field(2, ge=0)
    fingerprint_prompts: int = Field(3, ge=0, le=100)
    concurrency: int = Field(2, ge=1, le=256)
    families: list[str] = Field(default_factory=list)
    #: Levels to probe: a list of levels and ranges (``[1, "5-9"]``) or one range (``"1-40"``); a level
    #: above a family's top is capped to that top when planning. Default: every level of every family.
    difficulties: list[int] = Field(default_factory=lambda: list(range(1, MAX_TOP + 1)))
    novelties: list[int] = Field(default_factory=lambda: [0])
    group: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]{1,63}$")
    retry: RetryConfig = RetryConfig()
    circuit: CircuitConfig = CircuitConfig()
    budget: BudgetConfig = BudgetConfig()
    price: PriceConfig | None = None
    #: Staircase near each family's frontier with uniform exploration (``agent.stats.adaptive``);
    #: False probes uniformly over ``difficulties``.
    adaptive: bool = True
    #: Items whose prompt (estimated tokens, erring high) exceeds this are not sent: the level is
    #: capped for this target and family. Default: a context of ``DEFAULT_CONTEXT_TOKENS`` less ``max_tokens``.
    max_prompt_tokens: int | None = Field(None, ge=16, le=10_000_000)
    #: Ask for the answer as a server-sent event stream (time to first token is measured then).
    #: None: on for ``openai`` (OpenAI-compatible), off elsewhere; only ``openai`` and ``azure-openai`` stream.
    stream: bool | None = None
    #: With ``stream``, ask for token usage in the stream (``stream_options.include_usage``; OpenAI
    #: sends none without it). Turn off for servers that refuse fields they do not know.
    stream_usage: bool = True

    @field_validator("difficulties", mode="before")
    @classmethod
    def _difficulties(cls, v: Any) -> list[int]:
        return parse_levels(v)

    @property
    def streams(self) -> bool:
        """Whether this target's answers are read as an event stream (``stream``, default per provider)."""
        return self.provider == "openai" if self.stream is None else self.stream

    @property
    def prompt_token_limit(self) -> int:
        """The largest prompt (estimated tokens) this target is sent."""
        if self.max_prompt_tokens is not None:
            return self.max_prompt_tokens
        return max(16, DEFAULT_CONTEXT_TOKENS - self.max_tokens)

    @field_validator("novelties")
    @classmethod
    def _novelties(cls, v: list[int]) -> list[int]:
        if not v or any(n < 0 or n > 3 for n in v):
            raise ValueError("novelty levels must be a non-empty list within 0..3")
        return sorted(set(v))

    @model_validator(mode="after")
    def _key_sources(self) -> TargetConfig:
        given = [s for s in (self.api_key, self.api_key_env, self.api_key_file) if s is not None]
        if len(given) > 1:
            raise ValueError("give at most one of api_key, api_key_env, api_key_file")
        if self.provider == "azure-openai" and not self.api_version:
            raise ValueError("azure-openai needs api_version")
        if self.stream and self.provider not in STREAMING_PROVIDERS:
            raise ValueError(f"stream: provider {self.provider} is not streamed by capmon")
        if self.budget.max_cost_per_day_usd is not None and self.price is None:
            raise ValueError("budget.max_cost_per_day_usd needs a price table (price) to be enforced")
        return self

    def resolved_api_key(self, source: str = "config") -> SecretStr | None:
        """The API key from the value, the named environment variable or the secret file."""
        if self.api_key is not None:
            return self.api_key
        if self.api_key_env is not None:
            value = os.environ.get(self.api_key_env)
            if value is None:
                raise ConfigError(source, f"targets.{self.name}.api_key_env", f"variable {self.api_key_env} is not set")
            return SecretStr(value.strip())
        if self.api_key_file is not None:
            try:
                return SecretStr(self.api_key_file.read_text().strip())
            except OSError as exc:
                raise ConfigError(
                    source, f"targets.{self.name}.api_key_file", f"cannot read key file: {exc.strerror}"
                ) from None
        return None

    @property
    def effective_jitter_s(self) -> float:
        """Jitter bound: given, or a tenth of the interval."""
        return self.jitter_s if self.jitter_s is not None else self.interval_s / 10


class TLSServerConfig(_Strict):
    """Like Prometheus' web config ``tls_server_config``."""

    cert_file: Path
    key_file: Path


class WebConfig(_Strict):
    """Like Prometheus' web config file: optional TLS and basic auth (bcrypt hashes)."""

    tls_server_config: TLSServerConfig | None = None
    basic_auth_users: dict[str, SecretStr] = Field(default_factory=dict)
    #: Serve the pages with prompts and responses (``/``, ``/probe/{id}``) on a non-loopback
    #: ``listen`` address without ``basic_auth_users``; off, they answer 403 there.
    allow_unauthenticated_pages: bool = False

    @field_validator("basic_auth_users")
    @classmethod
    def _bcrypt(cls, v: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for user, hashed in v.items():
            if not re.fullmatch(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}", hashed.get_secret_value()):
                raise ValueError(f"password of user {user!r} is not a bcrypt hash")
        return v


class StatsConfig(_Strict):
    """Statistics and detection settings."""

    windows_s: list[float] = Field(default_factory=lambda: [3600.0, 86400.0])
    confidence: float = Field(0.95, gt=0.5, lt=1)
    false_alarms_per_month: float = Field(1.0, gt=0)
    shifts: list[float] = Field(default_factory=lambda: [0.1, 0.2])
    #: Outcomes a baseline is learned from: fresh items per pass-ratio scope, answered probes for the
    #: signal tests, canary answers for the fingerprint (5 per prompt, at most this). The pass-ratio and
    #: fingerprint designs keep the budget in expectation at any length (a pessimistic design or a
    #: doubled warm-up); the signal tests take their baseline shares' 95 % upper bounds
    #: (docs/statistics.md, "Baseline uncertainty", "Signals" and "Time to armed").
    warmup_probes: int = Field(500, ge=20)
    #: Statistics are refit at most this often (they cost O(targets x families) per refresh).
    refresh_interval_s: float = Field(30.0, ge=0)

    @field_validator("windows_s")
    @classmethod
    def _windows(cls, v: list[float]) -> list[float]:
        if not v or any(w <= 0 for w in v):
            raise ValueError("windows must be positive numbers of seconds")
        return v

    @field_validator("shifts")
    @classmethod
    def _shifts(cls, v: list[float]) -> list[float]:
        if not v or any(not 0 < s < 1 for s in v):
            raise ValueError("shifts must be pass-ratio changes in (0, 1)")
        return v


class ShardConfig(_Strict):
    """Scale-out: this agent probes only the targets whose hash falls in its shard."""

    count: int = Field(1, ge=1, le=1024)
    index: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _index(self) -> ShardConfig:
        if self.index is not None and self.index >= self.count:
            raise ValueError(f"index {self.index} must be below count {self.count}")
        return self


class Settings(BaseSettings):
    """The whole configuration."""

    model_config = SettingsConfigDict(
        env_prefix="CAPMON_", env_nested_delimiter="__", extra="forbid", frozen=True, secrets_dir=None
    )

    targets: list[TargetConfig] = Field(default_factory=list)
    store: Path = Path("./capmon.db")
    listen: str = DEFAULT_LISTEN
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    shutdown_grace_s: float = Field(10.0, ge=0)
    probe_templates: list[Path] = Field(default_factory=list)
    web: WebConfig = WebConfig()
    stats: StatsConfig = StatsConfig()
    shard: ShardConfig = ShardConfig()

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str) -> str:
        _, sep, port = v.rpartition(":")
        if not sep or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("listen must be host:port with a port in 1..65535")
        return v

    @field_validator("targets")
    @classmethod
    def _unique_names(cls, v: list[TargetConfig]) -> list[TargetConfig]:
        seen: set[str] = set()
        for i, t in enumerate(v):
            if t.name in seen:
                raise ValueError(f"name {t.name!r} appears twice (again at targets[{i}].name)")
            seen.add(t.name)
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _yaml_path.get()
        if path is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=path))
        sources.append(file_secret_settings)
        return tuple(sources)

    @property
    def listen_host_port(self) -> tuple[str, int]:
        """``listen`` split into host and port."""
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]") or "0.0.0.0", int(port)


def load_config(path: str | os.PathLike[str] | None, known_families: set[str] | None = None) -> Settings:
    """Load and validate the configuration, or raise one ``ConfigError`` line."""
    source = str(path) if path is not None else "<environment>"
    yaml_path: Path | None = None
    if path is not None:
        yaml_path = Path(path)
        _precheck_yaml(yaml_path)
    token = _yaml_path.set(yaml_path)
    try:
        settings = Settings()
    except ValidationError as exc:
        raise _config_error(source, exc) from None
    finally:
        _yaml_path.reset(token)
    _check_semantics(settings, source, known_families)
    return settings


def _precheck_yaml(path: Path) -> None:
    """Fail early, with a line number, on a missing file or YAML that does not parse to a mapping."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(str(path), "", "file not found") from None
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot read: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: no arbitrary objects
    except _DuplicateKey as exc:
        raise ConfigError(str(path), f"line {exc.line}", f"duplicate key {exc.key!r}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(str(path), where, f"YAML syntax error: {problem}") from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError(str(path), "", "top level must be a mapping of keys")


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int) -> None:
        self.key, self.line = key, line


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (plain PyYAML silently keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise _DuplicateKey(str(key), key_node.start_mark.line + 1)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _config_error(source: str, exc: ValidationError) -> ConfigError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    key = _key_path(first.get("loc", ()))
    msg = str(first.get("msg", "invalid"))
    if first.get("type") == "extra_forbidden":
        msg = "unknown key"
    msg = msg.removeprefix("Value error, ")
    if len(errors) > 1:
        msg += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return ConfigError(source, key, msg)


def _key_path(loc: tuple[Any, ...] | Any) -> str:
    parts: list[str] = []
    for part in loc if isinstance(loc, tuple) else (loc,):
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts) or "(top level)"


def check_families(settings: Settings, source: str, known_families: set[str]) -> None:
    """Every family a target names must be known (built-in, installed or a template)."""
    for i, t in enumerate(settings.targets):
        for fam in t.families:
            if fam not in known_families:
                raise ConfigError(source, f"targets[{i}].families", f"unknown probe family {fam!r}")


def _check_semantics(settings: Settings, source: str, known_families: set[str] | None) -> None:
    if known_families is not None:
        check_families(settings, source, known_families)
    for i, t in enumerate(settings.targets):
        if t.api_key_file is not None and not t.api_key_file.is_file():
            raise ConfigError(source, f"targets[{i}].api_key_file", f"file {t.api_key_file} does not exist")
    for i, p in enumerate(settings.probe_templates):
        if not p.is_file():
            raise ConfigError(source, f"probe_templates[{i}]", f"file {p} does not exist")
    tls = settings.web.tls_server_config
    if tls is not None:
        for key in ("cert_file", "key_file"):
            f = getattr(tls, key)
            if not Path(f).is_file():
                raise ConfigError(source, f"web.tls_server_config.{key}", f"file {f} does not exist")


def probe_registry(templates: Sequence[str | Path] = ()) -> Registry:
    """The probe Registry: built-in and installed families plus the YAML template families named.

    The one place a registry is built from configuration (the agent, ``capmon probes`` and config
    validation all call it). Raises ``ProbeError`` when a template or installed family does not load.
    """
    from probes.registry import builtin_registry
    from probes.templates import load_template_families

    registry = builtin_registry()
    for family in load_template_families(templates):
        registry.register(family)
    return registry


def secrets_of(targets: Iterable[TargetConfig], keys: Mapping[str, SecretStr | None] | None = None) -> list[str]:
    """Every secret value the targets hold (API keys and header values), for the redactors.

    ``keys`` are the targets' resolved API keys by name; without them each key is resolved here and
    one that cannot be (a missing variable or file) is skipped: config validation reports it.
    """
    out: list[str] = []
    for t in targets:
        if keys is not None:
            key = keys.get(t.name)
        else:
            try:
                key = t.resolved_api_key()
            except ConfigError:
                key = None
        if key is not None:
            out.append(key.get_secret_value())
        out += [h.get_secret_value() for h in t.headers.values()]
    return out
