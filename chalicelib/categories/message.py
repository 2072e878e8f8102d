"""Messages (Wavefront MessageApi, /api/v2/message): the caller's own messages, listed
(`unreadOnly`, true by default as in Wavefront) and marked read. The system writes them
(chalicelib/domain/messages.py); no route posts one.

Messages belong to the account, in its home tenant: a partner acting in a client tenant
still reads its own. Listing and marking one's own messages read are part of reading them
(Wavefront gives VIEW_MY_MESSAGES to every account): both need `message.read` /
`message.<id>.read`, which Browse (`*.read`, `*.*.read`) holds.
"""

from __future__ import annotations

from typing import Any

from chalicelib.categories import crud
from chalicelib.categories.crud import PAGING
from chalicelib.categories.crud_views import Page
from chalicelib.domain import messages
from chalicelib.domain.entities import Listing
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.wire import wavefront

router = Router("message")

BASE = "/api/v2/message"


class PagedMessage(Page):
    """The client's PagedMessage."""

    items: list[wavefront.Message]


@router.get(
    BASE,
    acl="message.read",
    query=(*PAGING, ("unreadOnly", "boolean", "only messages not read yet (default true)")),
    paged=True,
    response=PagedMessage,
)
def user_get_messages(req: Request) -> dict[str, Any]:
    """The caller's messages shown now, newest first."""
    offset, limit = req.paging()
    principal = req.ctx.principal
    found = messages.shown(principal.tenant, principal.id, now=req.ctx.now(), unread_only=req.flag("unreadOnly", True))
    return crud.page(Listing.of(found, offset, limit, messages.to_wire))


@router.post(f"{BASE}/{{id}}/read", acl="message.{id}.read", response=wavefront.Message)
def user_read_message(req: Request) -> dict[str, Any]:
    """Mark one of the caller's messages read."""
    principal = req.ctx.principal
    return messages.to_wire(messages.mark_read(principal.tenant, principal.id, req.params["id"]))


CATEGORY = Category(router)
