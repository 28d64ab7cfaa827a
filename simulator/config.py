"""What a simulator is built from: the data's parameters and the server's.

Both are plain values (seed, scale, rates, dates, limits, credentials) so that a test, the CLI
and `vcdb demo` build the same simulator the same way.  Defaults marked [U] stand in for facts
the reference could not establish (reference section 6); each is a parameter for that reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.timeline import Timeline

DEFAULT_ANOMALIES = 0.002  # enough for a demo at scale 0.01 to show a few dead letters


@dataclass(frozen=True)
class DatasetConfig:
    seed: int = 42
    scale: float = 0.01
    anomalies: float = DEFAULT_ANOMALIES  # share of Vehicle / VehicleToEngineConfig rows with a missing parent
    late_parent_share: float = 0.5  # late-parent Vehicles, relative to `anomalies`
    timeline: Timeline = field(default_factory=lambda: Timeline.monthly(3))
    growth: float = 0.01  # rows each later release adds, as a share of release 1
    modify_rate: float = 0.01  # share of published rows a later release modifies
    end_rate: float = 0.005  # share of live rows of an unreferenced table a later release ends

    def __post_init__(self) -> None:
        for name in ("anomalies", "late_parent_share", "growth", "modify_rate", "end_rate"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if not self.scale > 0:
            raise ValueError(f"scale must be positive, got {self.scale}")


@dataclass(frozen=True)
class Credentials:
    """The one subscriber the simulated identity server knows [1.5]."""

    client_id: str
    client_secret: str
    username: str
    password: str


@dataclass(frozen=True)
class ServerConfig:
    credentials: Credentials
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port
    release: int | None = None  # the current release; None: the last of the timeline
    token_ttl: int = 3600  # [1.5 L]: clients assume one-hour tokens
    refresh_ttl: int = 30 * 24 * 3600
    default_page_size: int = 1000  # [U]: unknown; every client sends 1000
    max_page_size: int = 1000  # [U]: unknown
    include_ended_in_full: bool = False  # [U 4]: whether a pull without SinceDate returns end-dated rows
    advertised_url: str | None = None  # base of X-Pagination links; None: the URL the request came to
    faults: dict[str, object] | None = None  # a fault profile (see simulator.faults)
    access_log: bool = False
