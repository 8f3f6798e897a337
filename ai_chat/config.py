"""All settings, read once from the environment (documented in README.md)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from functools import lru_cache

SIMULATOR_MOUNT = "/_sim"
SIMULATOR_API_KEY = "sk-ant-simulator-local"


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    return int(_float(env, name, default))


def workers_on_host(env: Mapping[str, str]) -> int:
    """How many workers `reflex run` starts here: GRANIAN_WORKERS, else Reflex's own rule
    (one without Redis; with it 2 x cores + 1, at most 8). They share the host's CPUs, so they
    share its push budget: 3 workers on 2 cores, each pushing as if alone, made twice the
    pushes of one worker for the same streams and held fewer streams than one worker."""
    if (workers := _int(env, "GRANIAN_WORKERS", 0)) > 0:
        return workers
    if (env.get("AI_CHAT_REDIS_URL", "") or env.get("REFLEX_REDIS_URL", "")).strip():
        return min((os.cpu_count() or 1) * 2 + 1, 8)
    return 1


@dataclasses.dataclass(frozen=True)
class Settings:
    """Runtime configuration. Secrets stay here, never in a public state var."""

    anthropic_api_key: str
    anthropic_base_url: str
    model: str
    max_output_tokens: int
    db_url: str
    db_pool_size: int  # server databases: connections each worker keeps open
    redis_url: str
    port: int
    push_interval_s: float  # the cadence while few replies stream
    push_interval_max_s: float  # …and the slowest, when many do
    push_budget_per_s: float  # pushes per second for this worker: its share of the host's
    turn_start_slots: int  # turns a worker starts at once (0: no bound); the rest queue
    reply_deadline_s: float
    stall_timeout_s: float
    connect_timeout_s: float
    max_retries: int
    max_retry_wait_s: float
    max_message_chars: int
    history_max_chars: int
    max_system_prompt_chars: int
    # Accounts (README "Deploying for others").
    auth_mode: str  # "password" (accounts), "proxy" (a trusted header), "none" (127.0.0.1 only)
    signup_mode: str  # "closed" (admins create accounts or invites), "open", "approval"
    session_idle_days: float  # a session unused this long ends; each use renews it
    cookie_secure: bool  # the session cookie only over HTTPS (set behind a TLS proxy)
    proxy_user_header: str  # proxy mode: the header that names the user
    proxy_addresses: tuple[str, ...]  # proxy mode: the only peers whose header is believed
    allowed_origins: tuple[str, ...]  # origins that may open the event socket and POST
    host: str  # the address the server binds
    # Limits per user (0: none); an admin can override each per user.
    limit_messages_per_minute: int
    limit_concurrent_replies: int
    limit_tokens_per_day: int
    limit_signin_per_account: int  # failed sign-ins per account per 15 minutes
    limit_signin_per_address: int  # failed sign-ins per address per 15 minutes
    # Operations (README "Operations").
    shutdown_grace_s: float  # SIGTERM: replies in flight get this long to finish
    respawn_workers: bool  # the start script's Granian respawns a crashed worker
    metrics_addresses: tuple[str, ...]  # peers that may read /metrics without the token
    metrics_token: str  # a bearer token that may read /metrics from anywhere ("" : none)
    turn_log: bool  # one JSON line per turn on stdout
    # Redis outages (ai_chat/reflex_redis.py): restart Reflex's listeners when Redis is back.
    redis_recovery: bool
    # Durable replies (ai_chat/generation/checkpoints.py, recovery.py).
    checkpoint_interval_s: float  # a reply in flight is checkpointed this often
    reply_lease_s: float  # a reply not checkpointed for this long: its worker is gone
    sweep_interval_s: float  # each worker looks for replies whose worker is gone this often
    save_retry_s: float  # a reply the database refused is retried this long
    # Switches back to the libraries' stock paths (README "Stock paths"); all on by default.
    own_network: bool  # llm/network.py: our asyncio network backend under httpx's pools
    chunk_merger: bool  # llm/chunked.py: a paced read's HTTP chunks merged (own_network only)
    direct_emits: bool  # socket_emits.py: a push to one tab sent from the emitting task
    gc_tuning: bool  # gc_tuning.py: startup objects frozen, collections rare
    state_proxy_bypass: bool  # state/_reflex_seam.py: work past Reflex's state/list proxies
    # The built-in simulator's own process (set by the start script, ops/simulator_process.py);
    # empty: it is mounted on the app's port at SIMULATOR_MOUNT.
    simulator_url: str = ""
    # limits/backend.py: this worker's rate-limit memory sweeps at most every 10 s (a private
    # hook of `limits`' MemoryStorage); off: `limits`' own sweep after every hit.
    limits_sweep_throttle: bool = True
    # Attachments (README "Attachments"); sizes in bytes of the file as uploaded.
    attachment_max_files: int = 20  # per message
    attachment_image_max_bytes: int = 3_932_160  # the API's 5 MB is of the base64 text
    attachment_pdf_max_bytes: int = 24_000_000  # base64 of it still fits one request
    attachment_pdf_max_pages: int = 100
    attachment_text_max_bytes: int = 2_000_000
    request_max_bytes: int = 33_554_432  # the Messages API's 32 MB per request
    # Titles (llm/titles.py): made by this small model after a conversation's first reply.
    titles: bool = True
    title_model: str = "claude-haiku-5-5"

    @property
    def use_simulator(self) -> bool:
        """No key and no explicit endpoint: talk to the built-in simulator."""
        return not self.anthropic_api_key and not self.anthropic_base_url

    @property
    def effective_base_url(self) -> str:
        if self.anthropic_base_url:
            return self.anthropic_base_url
        if self.use_simulator:
            return self.simulator_url or f"http://127.0.0.1:{self.port}{SIMULATOR_MOUNT}"
        return ""  # the SDK's default (api.anthropic.com)

    @property
    def effective_api_key(self) -> str:
        return self.anthropic_api_key or SIMULATOR_API_KEY

    @property
    def async_db_url(self) -> str:
        return async_url(self.db_url)


def async_url(url: str) -> str:
    """Map a sync SQLAlchemy URL to its async-driver twin (aiosqlite / asyncpg)."""
    for sync_prefix, async_prefix in (
        ("sqlite:", "sqlite+aiosqlite:"),
        ("postgresql+psycopg:", "postgresql+psycopg_async:"),
        ("postgresql:", "postgresql+asyncpg:"),
        ("postgres:", "postgresql+asyncpg:"),
    ):
        if url.startswith(sync_prefix):
            return async_prefix + url[len(sync_prefix) :]
    return url


AUTH_MODES = ("password", "proxy", "none")
SIGNUP_MODES = ("closed", "open", "approval")


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower() or choices[0]
    if raw not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {raw!r}")
    return raw


def _list(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name, "")
    items = tuple(item.strip().rstrip("/") for item in raw.split(",") if item.strip())
    return items or default


def normalize_origin(value: str) -> str:
    """`value` as a browser writes it in an `Origin` header: `scheme://host[:port]`, lower
    case, IDN host in punycode, no default port, no path (a URL gives its origin); "" when
    it isn't an http(s) origin. Origins are compared as exact strings (engine.io, Starlette's
    CORS), so "https://Chat.example.com:443/" configured must become "https://chat.example.com"."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value.strip())
        port = parts.port
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        return ""
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host or "@" in parts.netloc:
        return ""
    if ":" in host:
        host = f"[{host}]"  # IPv6
    if port is not None and port != (443 if scheme == "https" else 80):
        host = f"{host}:{port}"
    return f"{scheme}://{host}"


def _origins(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """A list of origins, normalized; a value that isn't one fails at startup (a silent
    mismatch would refuse every browser)."""
    origins = []
    for item in _list(env, name, default):
        origin = normalize_origin(item)
        if not origin:
            raise ValueError(f"{name}: {item!r} is not an origin like https://chat.example.com")
        origins.append(origin)
    return tuple(dict.fromkeys(origins))


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    return default if not raw else raw in ("1", "true", "yes", "on")


# The switches back to the libraries' stock paths: whoever starts the app with a cleaned
# environment (tests/e2e, tests/support/servers.py) passes these through.
STOCK_SWITCHES = (
    "AI_CHAT_STOCK",
    "AI_CHAT_OWN_NETWORK",
    "AI_CHAT_CHUNK_MERGER",
    "AI_CHAT_DIRECT_EMITS",
    "AI_CHAT_GC_TUNING",
    "AI_CHAT_STATE_PROXY_BYPASS",
    "AI_CHAT_LIMITS_SWEEP_THROTTLE",
)


def _tuned(env: Mapping[str, str], name: str) -> bool:
    """A switch to one of the tuned paths: on unless it is turned off, or AI_CHAT_STOCK
    puts every one of them on the libraries' stock path."""
    return not _bool(env, "AI_CHAT_STOCK", False) and _bool(env, name, True)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    port = _int(env, "AI_CHAT_PORT", 8000)
    auth_mode = _choice(env, "AI_CHAT_AUTH", AUTH_MODES)
    own_network = _tuned(env, "AI_CHAT_OWN_NETWORK")
    return Settings(
        anthropic_api_key=env.get("ANTHROPIC_API_KEY", "").strip(),
        anthropic_base_url=env.get("ANTHROPIC_BASE_URL", "").strip().rstrip("/"),
        model=env.get("AI_CHAT_MODEL", "claude-sonnet-5-5").strip(),
        max_output_tokens=_int(env, "AI_CHAT_MAX_OUTPUT_TOKENS", 4096),
        db_url=env.get("AI_CHAT_DB_URL", "").strip() or "sqlite:///ai_chat.db",
        db_pool_size=max(1, _int(env, "AI_CHAT_DB_POOL_SIZE", 15)),
        # Reflex's own REFLEX_REDIS_URL counts too: the stop channel must follow the state.
        redis_url=(env.get("AI_CHAT_REDIS_URL", "") or env.get("REFLEX_REDIS_URL", "")).strip(),
        port=port,
        push_interval_s=_float(env, "AI_CHAT_PUSH_INTERVAL_MS", 50) / 1000,
        push_interval_max_s=_float(env, "AI_CHAT_PUSH_INTERVAL_MAX_MS", 200) / 1000,
        push_budget_per_s=_float(env, "AI_CHAT_PUSH_BUDGET", 1000) / workers_on_host(env),
        turn_start_slots=max(0, _int(env, "AI_CHAT_TURN_STARTS", 0)),
        reply_deadline_s=_float(env, "AI_CHAT_REPLY_DEADLINE_S", 600),
        stall_timeout_s=_float(env, "AI_CHAT_STALL_TIMEOUT_S", 60),
        connect_timeout_s=_float(env, "AI_CHAT_CONNECT_TIMEOUT_S", 5),
        max_retries=_int(env, "AI_CHAT_MAX_RETRIES", 2),
        max_retry_wait_s=_float(env, "AI_CHAT_MAX_RETRY_WAIT_S", 10),
        max_message_chars=_int(env, "AI_CHAT_MAX_MESSAGE_CHARS", 50_000),
        history_max_chars=_int(env, "AI_CHAT_HISTORY_MAX_CHARS", 400_000),
        max_system_prompt_chars=_int(env, "AI_CHAT_MAX_SYSTEM_PROMPT_CHARS", 20_000),
        auth_mode=auth_mode,
        signup_mode=_choice(env, "AI_CHAT_SIGNUP", SIGNUP_MODES),
        session_idle_days=_float(env, "AI_CHAT_SESSION_DAYS", 14),
        cookie_secure=_bool(env, "AI_CHAT_COOKIE_SECURE", False),
        proxy_user_header=env.get("AI_CHAT_PROXY_USER_HEADER", "").strip().lower()
        or "x-forwarded-user",
        proxy_addresses=_list(env, "AI_CHAT_PROXY_ADDRESSES", ("127.0.0.1", "::1")),
        allowed_origins=_origins(
            env, "AI_CHAT_ALLOWED_ORIGINS", (f"http://localhost:{port}", f"http://127.0.0.1:{port}")
        ),
        # No accounts: reachable from this machine only, whatever AI_CHAT_HOST says.
        host="127.0.0.1"
        if auth_mode == "none"
        else env.get("AI_CHAT_HOST", "").strip() or "0.0.0.0",
        limit_messages_per_minute=max(0, _int(env, "AI_CHAT_LIMIT_MESSAGES_PER_MINUTE", 30)),
        limit_concurrent_replies=max(0, _int(env, "AI_CHAT_LIMIT_CONCURRENT_REPLIES", 3)),
        limit_tokens_per_day=max(0, _int(env, "AI_CHAT_LIMIT_TOKENS_PER_DAY", 2_000_000)),
        limit_signin_per_account=max(1, _int(env, "AI_CHAT_LIMIT_SIGNIN_PER_ACCOUNT", 10)),
        limit_signin_per_address=max(1, _int(env, "AI_CHAT_LIMIT_SIGNIN_PER_ADDRESS", 50)),
        shutdown_grace_s=max(0.0, _float(env, "AI_CHAT_SHUTDOWN_GRACE_S", 10)),
        respawn_workers=_bool(env, "AI_CHAT_RESPAWN_WORKERS", True),
        metrics_addresses=_list(env, "AI_CHAT_METRICS_ADDRESSES", ("127.0.0.1", "::1")),
        metrics_token=env.get("AI_CHAT_METRICS_TOKEN", "").strip(),
        turn_log=_bool(env, "AI_CHAT_TURN_LOG", True),
        redis_recovery=_bool(env, "AI_CHAT_REDIS_RECOVERY", True),
        checkpoint_interval_s=max(0.05, _float(env, "AI_CHAT_CHECKPOINT_INTERVAL_S", 1)),
        reply_lease_s=max(0.2, _float(env, "AI_CHAT_REPLY_LEASE_S", 5)),
        sweep_interval_s=max(0.1, _float(env, "AI_CHAT_SWEEP_INTERVAL_S", 5)),
        save_retry_s=max(0.0, _float(env, "AI_CHAT_SAVE_RETRY_S", 120)),
        own_network=own_network,
        chunk_merger=own_network and _tuned(env, "AI_CHAT_CHUNK_MERGER"),
        direct_emits=_tuned(env, "AI_CHAT_DIRECT_EMITS"),
        gc_tuning=_tuned(env, "AI_CHAT_GC_TUNING"),
        state_proxy_bypass=_tuned(env, "AI_CHAT_STATE_PROXY_BYPASS"),
        simulator_url=env.get("AI_CHAT_SIMULATOR_URL", "").strip().rstrip("/"),
        limits_sweep_throttle=_tuned(env, "AI_CHAT_LIMITS_SWEEP_THROTTLE"),
        attachment_max_files=max(0, _int(env, "AI_CHAT_ATTACHMENT_MAX_FILES", 20)),
        attachment_image_max_bytes=_int(env, "AI_CHAT_ATTACHMENT_IMAGE_MAX_BYTES", 3_932_160),
        attachment_pdf_max_bytes=_int(env, "AI_CHAT_ATTACHMENT_PDF_MAX_BYTES", 24_000_000),
        attachment_pdf_max_pages=_int(env, "AI_CHAT_ATTACHMENT_PDF_MAX_PAGES", 100),
        attachment_text_max_bytes=_int(env, "AI_CHAT_ATTACHMENT_TEXT_MAX_BYTES", 2_000_000),
        request_max_bytes=_int(env, "AI_CHAT_REQUEST_MAX_BYTES", 33_554_432),
        titles=_bool(env, "AI_CHAT_TITLES", True),
        title_model=env.get("AI_CHAT_TITLE_MODEL", "").strip() or "claude-haiku-5-5",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
