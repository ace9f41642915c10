"""What every command needs: settings that explain themselves, logging, a database."""

from __future__ import annotations

import logging
import sys
from typing import NoReturn

from pydantic import ValidationError

from bot.clock import Clock
from bot.db import SessionFactory, make_engine, make_session_factory
from bot.logging_setup import QUIET_LIBRARY_LOGGERS, LogFormat, make_handler
from bot.migrate import is_up_to_date, upgrade
from bot.services.master_data import SyncResult, sync_master_data
from bot.settings import CoreSettings, Settings
from bot.settings_errors import describe_settings_error

EXIT_CONFIG = 2


def fail(message: str, code: int = EXIT_CONFIG) -> NoReturn:
    print(message, file=sys.stderr)
    raise SystemExit(code)


def load_settings() -> Settings:
    try:
        return Settings()  # values come from the environment
    except ValidationError as error:
        fail(describe_settings_error(error))


def load_core_settings() -> CoreSettings:
    try:
        return CoreSettings()
    except ValidationError as error:
        fail(describe_settings_error(error))


def configure_logging(level: str = "INFO", log_format: LogFormat = "text") -> None:
    """One stderr handler that masks personal data and bounds line length; text or JSON."""
    logging.basicConfig(level=level, handlers=[make_handler(log_format, sys.stderr)])
    # Library loggers that would otherwise print request content or SQL: never below INFO,
    # even when Kyoso itself runs at DEBUG.
    for name in QUIET_LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.setLevel(max(logging.INFO, library.getEffectiveLevel()))


def upgrade_database(database_url: str, *, clock: Clock) -> SyncResult:
    """Apply migrations, then bring the organisation master data up to date."""
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as session:
            return sync_master_data(session, clock=clock)
    finally:
        engine.dispose()


def open_database(database_url: str) -> SessionFactory:
    """A session factory for a database that must already be migrated."""
    engine = make_engine(database_url)
    if not is_up_to_date(engine, database_url):
        fail(
            "データベースが最新ではありません。`kyoso db upgrade` を実行してください。\n"
            "The database schema is not up to date: run `kyoso db upgrade`."
        )
    return make_session_factory(engine)
