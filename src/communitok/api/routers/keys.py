"""``/v1/keys``: API keys (admin only). The secret is returned once, at creation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from ..deps import PageDep, Principal, StateDep, require
from ..errors import ApiError
from ..schemas import KeyCreate, KeyCreated, KeyInfo, Page
from ..serialize import jsonable

router = APIRouter(prefix="/keys", tags=["keys"])
ADMIN = require("admin")
KeyId = Annotated[str, Path(pattern="^[0-9a-f]{8}$", description="The key's public id.")]


@router.get("", response_model=Page[KeyInfo], summary="List keys (never their secrets)")
def list_keys(st: StateDep, pg: PageDep, _: Principal = ADMIN) -> dict[str, Any]:
    return pg.slice([jsonable(k.public()) for k in st.keys.list()])


@router.post("", response_model=KeyCreated, status_code=201, summary="Create a key")
def create_key(body: KeyCreate, st: StateDep, _: Principal = ADMIN) -> dict[str, Any]:
    secret, rec = st.keys.create(
        body.scope, body.name, rate_per_s=body.rate_per_s, burst=body.burst
    )
    return {**jsonable(rec.public()), "key": secret}


@router.get("/{key_id}", response_model=KeyInfo, summary="One key")
def get_key(key_id: KeyId, st: StateDep, _: Principal = ADMIN) -> dict[str, Any]:
    return jsonable(st.keys.get(key_id).public())


@router.delete("/{key_id}", response_model=KeyInfo, summary="Revoke a key")
def revoke_key(key_id: KeyId, st: StateDep, who: Principal = ADMIN) -> dict[str, Any]:
    if key_id == who.key_id:
        raise ApiError(409, "a key cannot revoke itself", code="conflict")
    return jsonable(st.keys.revoke(key_id).public())
