"""What an agent sees of a buyer's personal data."""

import copy

import pytest

from bot.domain.masking import mask_address, mask_email, mask_name, mask_phone, mask_profile


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("+86 138-1234-5678", "+86 138****5678"),
        ("+8613812345678", "+86 138****5678"),
        ("008613812345678", "+86 138****5678"),
        ("１３８１２３４５６７８", "138****5678"),  # full-width digits
        ("0571-88881234", "0571-****1234"),
        ("010 12345678", "010-****5678"),
        ("01012345678", "010-****5678"),
        ("0755-1234567", "0755-***4567"),
        ("+44 20 7946 0958", "+********0958"),
        ("95588", "***88"),
        ("110", "***"),
        ("", ""),
        (None, ""),
        ("n/a", "****"),
    ],
)
def test_mask_phone(phone: str | None, shown: str) -> None:
    assert mask_phone(phone) == shown


def test_masked_phone_never_shows_the_middle_digits() -> None:
    assert "1234" not in mask_phone("13812345678")


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("浙江省杭州市西湖区文三路123号4幢501室", "浙江省杭州市西湖区****"),
        ("北京市朝阳区建国路88号SOHO现代城", "北京市朝阳区****"),
        ("上海市浦东新区张江路665号", "上海市浦东新区****"),
        ("广东省东莞市长安镇振安路", "广东省东莞市****"),  # no district: the town is detail
        ("新疆维吾尔自治区乌鲁木齐市天山区解放路1号", "新疆维吾尔自治区乌鲁木齐市天山区****"),
        ("江苏省苏州市昆山市前进路8号", "江苏省苏州市昆山市****"),
        ("浙江省 杭州市 西湖区 文三路123号", "浙江省 杭州市 西湖区 ****"),
        ("浙江省杭州市西湖区", "浙江省杭州市西湖区"),
        ("文三路123号", "****"),
        ("12 Main St, Springfield, IL 62704, USA", "****, Springfield, USA"),
        ("", ""),
    ],
)
def test_mask_address_keeps_province_city_district(address: str, shown: str) -> None:
    assert mask_address(address) == shown


@pytest.mark.parametrize(
    ("email", "shown"),
    [
        ("zhangwei@example.com", "z***@example.com"),
        ("12345@qq.com", "1***@qq.com"),
        ("ab@qq.com", "***@qq.com"),
        ("not-an-email", "****"),
        ("", ""),
    ],
)
def test_mask_email(email: str, shown: str) -> None:
    assert mask_email(email) == shown


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("张伟", "张*"),
        ("张三丰", "张*丰"),
        ("欧阳娜娜", "欧**娜"),
        ("李", "*"),
        ("John Smith", "J*** S***"),
        ("", ""),
    ],
)
def test_mask_name(name: str, shown: str) -> None:
    assert mask_name(name) == shown


PROFILE = {
    "buyer_id": "buyer123",
    "name": "张伟",
    "phone": "13812345678",
    "email": "zhangwei@example.com",
    "address": "浙江省杭州市西湖区文三路123号",
    "tags": ["vip"],
    "spent_fen": 123450,
    "orders": [
        {
            "order_id": "A1",
            "receiver_name": "王小明",
            "receiver_phone": "13912345678",
            "receiver_address": {"province": "浙江省", "detail": "文三路1号"},
        }
    ],
}


def test_agents_see_masked_contact_data() -> None:
    seen = mask_profile(PROFILE, "agent")
    assert seen["phone"] == "138****5678"
    assert seen["email"] == "z***@example.com"
    assert seen["address"] == "浙江省杭州市西湖区****"
    order = seen["orders"][0]
    assert order["receiver_phone"] == "139****5678"
    assert order["receiver_name"] == "王*明"
    assert order["receiver_address"] == {"province": "浙江省", "detail": "****"}
    # not personal data: untouched
    assert seen["name"] == "张伟"
    assert seen["buyer_id"] == "buyer123"
    assert seen["tags"] == ["vip"]
    assert seen["spent_fen"] == 123450


def test_admins_see_everything() -> None:
    assert mask_profile(PROFILE, "admin") == PROFILE
    assert mask_profile(PROFILE, "Admin") == PROFILE


def test_unknown_roles_are_masked() -> None:
    for role in ("", "owner?", None, "buyer"):
        assert mask_profile(PROFILE, role)["phone"] == "138****5678"


def test_role_objects_with_a_code_work() -> None:
    class Role:
        def __init__(self, code: str) -> None:
            self.code = code

    assert mask_profile(PROFILE, Role("admin"))["phone"] == "13812345678"
    assert mask_profile(PROFILE, Role("agent"))["phone"] == "138****5678"


def test_the_input_is_not_changed() -> None:
    before = copy.deepcopy(PROFILE)
    mask_profile(PROFILE, "agent")
    admin_view = mask_profile(PROFILE, "admin")
    admin_view["orders"][0]["receiver_phone"] = "changed"
    assert before == PROFILE


def test_missing_and_numeric_values() -> None:
    seen = mask_profile({"phone": None, "mobile": 13812345678, "emails": ["ab@x.cn"]}, "agent")
    assert seen == {"phone": "", "mobile": "138****5678", "emails": ["***@x.cn"]}
