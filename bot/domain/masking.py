"""Masking of personal data before it is shown to agents.

``mask_profile`` is THE place masking happens: handlers pass every profile (buyer
card, order rows, near-match suggestions) through it before rendering. Admins see
everything; every other role, including an unknown one, gets masked data (fail
closed).

Decisions:
- Phones keep what an agent needs to confirm a number with the buyer ("ending
  5678?") and no more: a Chinese mobile keeps its first 3 and last 4 digits
  (``138****5678``, ``+86 138****5678``); a landline keeps its area code and last 4
  (``0571-****1234``); anything else keeps only the last 4 digits when it has 8 or
  more, the last 2 when it has 5-7, nothing when shorter.
- Addresses keep province, city and district/county (``浙江省杭州市西湖区****``);
  the street, building and room are replaced by a fixed ``****`` so the length of
  the detail is not revealed. When no administrative part can be recognised the
  whole address is masked. Latin addresses ("12 Main St, Springfield, USA") keep
  their comma-separated parts without digits, except the first (the street).
- E-mail keeps the first character of the local part (when it has 3 or more) and
  the whole domain (``z***@qq.com``): the domain tells an agent which mailbox, not
  whose.
- Names: Chinese names keep the surname and, for three characters or more, the
  last character (``张*``, ``张*伟``, ``欧**娜``); Latin names keep each word's
  initial (``J*** S***``). Names are not masked for agents by ``mask_profile`` (the
  agent is already talking to the buyer); recipient names on orders are.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "FULL_PII_ROLES",
    "mask_address",
    "mask_email",
    "mask_name",
    "mask_phone",
    "mask_profile",
]

FULL_PII_ROLES = frozenset({"admin"})
STARS = "****"

_CN_MOBILE = re.compile(r"1[3-9]\d{9}")
_CN_LANDLINE = re.compile(r"0\d{9,11}")


def mask_phone(phone: str | None) -> str:
    """``"13812345678"`` -> ``"138****5678"``; see the module notes for other forms."""
    if not phone:
        return ""
    text = unicodedata.normalize("NFKC", str(phone)).strip()
    compact = re.sub(r"[\s\-().]", "", text)
    digits = "".join(ch for ch in compact if ch.isdigit())
    if not digits:
        return STARS if text else ""
    # +86 / 0086 / 86 followed by a mobile number
    for prefix in ("+86", "0086", "86"):
        rest = compact.removeprefix(prefix)
        if rest != compact and _CN_MOBILE.fullmatch(rest):
            return f"+86 {rest[:3]}****{rest[-4:]}"
    if _CN_MOBILE.fullmatch(compact):
        return f"{compact[:3]}****{compact[-4:]}"
    if _CN_LANDLINE.fullmatch(compact):
        # 010 and 02x are the three-digit area codes; the rest have four digits
        size = 3 if compact[1] in "12" else 4
        area, local = compact[:size], compact[size:]
        if 7 <= len(local) <= 8:
            return f"{area}-{'*' * (len(local) - 4)}{local[-4:]}"
    keep = 4 if len(digits) >= 8 else 2 if len(digits) >= 5 else 0
    plus = "+" if compact.startswith("+") else ""
    return plus + "*" * (len(digits) - keep) + digits[len(digits) - keep :]


_PROVINCE = r"(?:[^\d\s]{2,7}?(?:省|自治区|特别行政区))"
_CITY = r"(?:[^\d\s]{1,10}?(?:市|自治州|地区|盟))"
_DISTRICT = r"(?:[^\d\s]{1,7}?(?:区|县|旗|市))"
_CN_ADDRESS = re.compile(rf"({_PROVINCE})?({_CITY})?({_DISTRICT})?")
_CJK = re.compile(r"[\u3400-\u9fff]")


def mask_address(address: str | None) -> str:
    """Keep province/city/district, mask the rest: ``浙江省杭州市西湖区****``."""
    if not address:
        return ""
    text = unicodedata.normalize("NFKC", str(address)).strip()
    if not text:
        return ""
    if not _CJK.search(text):
        return _mask_latin_address(text)
    spaced = " " in text
    compact = re.sub(r"\s+", "", text)
    match = _CN_ADDRESS.match(compact)
    parts = [p for p in match.groups() if p] if match else []
    if not parts:
        return STARS
    kept = (" " if spaced else "").join(parts)
    if len("".join(parts)) == len(compact):
        return kept  # nothing beyond the district
    return f"{kept} {STARS}" if spaced else kept + STARS


def _mask_latin_address(text: str) -> str:
    parts = [p.strip() for p in text.split(",")]
    kept = [p for p in parts[1:] if p and not any(ch.isdigit() for ch in p)]
    return ", ".join([STARS, *kept])


def mask_email(email: str | None) -> str:
    """``"zhangwei@example.com"`` -> ``"z***@example.com"``."""
    if not email:
        return ""
    text = str(email).strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        return STARS
    # one or two characters would be given away by showing the first one
    shown = local[0] if len(local) >= 3 else ""
    return f"{shown}***@{domain}"


def mask_name(name: str | None) -> str:
    """``张伟`` -> ``张*``, ``张三丰`` -> ``张*丰``, ``John Smith`` -> ``J*** S***``."""
    if not name:
        return ""
    text = " ".join(str(name).split())
    if not text:
        return ""
    if _CJK.search(text) and " " not in text:
        if len(text) == 1:
            return "*"
        if len(text) == 2:
            return text[0] + "*"
        return text[0] + "*" * (len(text) - 2) + text[-1]
    return " ".join(word[0] + "***" for word in text.split(" "))


def _mask_id_number(value: str | None) -> str:
    text = (value or "").strip()
    if len(text) < 8:
        return STARS if text else ""
    return "*" * (len(text) - 4) + text[-4:]


# key -> masker, applied for roles without full PII. Keys are matched exactly,
# in any nested dict or list of dicts (orders inside a profile, for example).
_MASKERS = {
    "phone": mask_phone,
    "mobile": mask_phone,
    "tel": mask_phone,
    "telephone": mask_phone,
    "receiver_phone": mask_phone,
    "receiver_mobile": mask_phone,
    "address": mask_address,
    "receiver_address": mask_address,
    "shipping_address": mask_address,
    "email": mask_email,
    "receiver_email": mask_email,
    "receiver_name": mask_name,
    "recipient": mask_name,
    "id_card": _mask_id_number,
}
_MASKERS.update({
    "phones": mask_phone,
    "mobiles": mask_phone,
    "addresses": mask_address,
    "emails": mask_email,
})  # fmt: skip


def _role_code(role: object) -> str:
    code = getattr(role, "code", role)  # bot.domain.roles.Role has .code
    return str(code).strip().casefold() if code is not None else ""


def mask_profile(profile: Mapping[str, Any], role: object) -> dict[str, Any]:
    """Return a copy of ``profile`` fit for ``role`` to see; the input is not changed.

    ``role`` is a role code such as ``"agent"`` / ``"admin"`` (or an object with a
    ``code`` attribute). Only roles in ``FULL_PII_ROLES`` see unmasked data.
    """
    if _role_code(role) in FULL_PII_ROLES:
        return _copy(profile)
    return _mask(profile)


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_copy(v) for v in value]
    return value


def _mask(value: Any, masker: Callable[[str | None], str] | None = None) -> Any:
    if isinstance(value, Mapping):
        # inside a PII value (an address given as a dict, say) every part is masked
        # with the parent's masker unless it names its own
        return {
            k: _mask(v, _MASKERS.get(k, masker) if isinstance(k, str) else masker)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_mask(v, masker) for v in value]
    if masker is not None:
        return masker(None if value is None else str(value))
    return value
