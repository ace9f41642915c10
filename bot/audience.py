"""Who a listener or a subcommand is for. The check is on roles only; which channel a
facilitator may edit is the use case's business."""

from __future__ import annotations

from enum import StrEnum

from models import Role


class Audience(StrEnum):
    ANYONE = "anyone"
    SECRETARIAT = "secretariat"
    FACILITATOR = "facilitator"  # facilitators, and the secretariat
    AMBASSADOR = "ambassador"  # ambassadors, and the secretariat


ALLOWED_ROLES: dict[Audience, tuple[Role, ...]] = {
    Audience.ANYONE: (),
    Audience.SECRETARIAT: (Role.SECRETARIAT,),
    Audience.FACILITATOR: (Role.FACILITATOR, Role.SECRETARIAT),
    Audience.AMBASSADOR: (Role.AMBASSADOR, Role.SECRETARIAT),
}
