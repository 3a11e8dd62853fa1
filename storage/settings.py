"""Per-workspace settings that replace built-in defaults."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from storage.conversations import ensure_workspace
from storage.models import WorkspaceSetting, utcnow


def get_setting(session: Session, workspace_id: str, key: str) -> Any | None:
    """Return the stored value, or None when the workspace keeps the default."""
    setting = session.get(WorkspaceSetting, (workspace_id, key))
    return None if setting is None else setting.value


def put_setting(
    session: Session, workspace_id: str, key: str, value: Any, *, updated_by: str | None
) -> None:
    ensure_workspace(session, workspace_id)
    setting = session.get(WorkspaceSetting, (workspace_id, key))
    if setting is None:
        setting = WorkspaceSetting(workspace_id=workspace_id, key=key, value=value)
    setting.value = value
    setting.updated_by = updated_by
    setting.updated_at = utcnow()
    session.add(setting)
    session.flush()


def delete_setting(session: Session, workspace_id: str, key: str) -> bool:
    """Remove the stored value, so the workspace keeps the default; return whether one was."""
    setting = session.get(WorkspaceSetting, (workspace_id, key))
    if setting is None:
        return False
    session.delete(setting)
    session.flush()
    return True


def list_settings(session: Session, workspace_id: str) -> list[tuple[str, Any]]:
    statement = (
        select(WorkspaceSetting.key, WorkspaceSetting.value)
        .where(WorkspaceSetting.workspace_id == workspace_id)
        .order_by(WorkspaceSetting.key)
    )
    return [(key, value) for key, value in session.exec(statement)]
