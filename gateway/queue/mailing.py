"""Result mailing (结果免费寄): check the citizen's choice against the matter before it is
recorded. Address and phone are taken only when the result is mailed (personal data minimal)."""

from __future__ import annotations

import re
from typing import Any

from gateway.queue.errors import BadInput, MailingNotPossible
from gateway.queue.matters import Matter

PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")  # mobile, or landline with area code


def check(
    matter: Matter | None, wants: bool, address: str | None, phone: str | None
) -> dict[str, Any]:
    """The mailing record to store, or a QueueError saying what is wrong."""
    if not isinstance(wants, bool):
        raise BadInput("是否邮寄须为 true 或 false")
    if not wants:
        if address or phone:
            raise BadInput("不邮寄时不登记地址和电话")
        return {"wants": False}
    if matter is None:
        raise BadInput("请先选择办理的事项，才能登记邮寄")
    if not matter.mailable:
        raise MailingNotPossible(f"{matter.name}的结果不能邮寄，请打印领取提醒")
    address = (address or "").strip()
    if not 6 <= len(address) <= 120:
        raise BadInput("邮寄地址须为6至120个字")
    phone = (phone or "").replace(" ", "")
    if not PHONE.match(phone):
        raise BadInput("联系电话须为11位手机号或带区号的固定电话")
    return {"wants": True, "address": address, "phone": phone, "matter": matter.code}


def masked(phone: str) -> str:
    """What a status page may show: 138****5678."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"
