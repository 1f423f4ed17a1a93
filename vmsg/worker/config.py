"""Worker settings: the one home of their defaults (the CLI flags default to None)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vmsg.worker import QUEUE


class WorkerOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    concurrency: int = Field(1, ge=1, le=64, description="jobs at once per worker (each a process with its own models)")
    queue: str = QUEUE
    max_tasks_per_child: int = Field(50, ge=1, description="recycle a process after this many jobs (bounds leaks)")
    soft_time_limit: float = Field(900, gt=0, description="seconds before a job is asked to stop")
    time_limit: float = Field(960, gt=0, description="seconds before a job's process is killed")
    visibility_timeout: float = Field(1200, gt=0, description="seconds before a job of a dead worker is handed to another")
    max_retries: int = Field(5, ge=0, description="retries of a job that failed with a temporary error")
    max_deliveries: int = Field(3, ge=1, description="times a job's worker may die while running it (killed, "
                                                     "out of memory, crashed) before the job is failed, not handed out again")
    retry_backoff: float = Field(10, gt=0, description="first retry delay in seconds; doubles each time")
    retry_backoff_max: float = Field(600, gt=0)
    result_expires: int = Field(7 * 24 * 3600, ge=60, description="seconds job states are kept in Redis")
    cache_url: str | None = Field(None, description="stage cache shared by the workers (redis://… or s3://bucket/prefix, "
                                                    "with a local folder in front); None: $VMSG_CACHE_URL, else no cache")
    loglevel: str = "INFO"
    metrics_interval: float = Field(15, gt=0, description="seconds between metrics writes while idle")

    @model_validator(mode="after")
    def _limits_in_order(self) -> WorkerOptions:
        if self.soft_time_limit >= self.time_limit:
            raise ValueError(f"soft-time-limit ({self.soft_time_limit:g}) must be below time-limit ({self.time_limit:g})")
        if self.visibility_timeout <= self.time_limit:
            raise ValueError(f"visibility-timeout ({self.visibility_timeout:g}) must exceed time-limit ({self.time_limit:g}),"
                             " or a long job would be handed to a second worker while still running")
        return self
