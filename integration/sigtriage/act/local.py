"""The SOAR of last resort: with no SOAR connector configured, sigtriage's own case store is where the decision,
note, tags and closing reason live, so those actions are 'delivered' by having been recorded there."""

from __future__ import annotations

from sigtriage.model.decision import Action, ActionKind, ActionResult

LOCAL_KINDS = frozenset({ActionKind.ADD_NOTE, ActionKind.SET_SEVERITY, ActionKind.TAG, ActionKind.ADD_OBSERVABLE,
                         ActionKind.CLOSE, ActionKind.PROMOTE})


class LocalConnector:
    name = "local"

    def supports(self, kind: ActionKind) -> bool:
        return kind in LOCAL_KINDS

    def execute(self, action: Action) -> ActionResult:
        if action.kind not in LOCAL_KINDS:
            return ActionResult(ok=False, retryable=False, detail=f"{action.kind.value} needs an external connector")
        return ActionResult(ok=True, retryable=False, detail="recorded in the local case store")
