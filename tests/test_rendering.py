from bot.rendering import Renderer, fen_to_yuan, split_message


def test_values_are_escaped_so_input_is_shown_literally():
    r = Renderer("en")
    text = r.render("usage", usage="<b>{{ 7*7 }}</b> & '; DROP TABLE customers; --")
    assert "&lt;b&gt;{{ 7*7 }}&lt;/b&gt; &amp;" in text
    assert "49" not in text


def test_money_filter_is_exact():
    assert fen_to_yuan(123456789) == "1,234,567.89"
    assert fen_to_yuan(-5) == "-0.05"
    assert fen_to_yuan(None) == "-"


def test_operator_templates_override_ours_file_by_file(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "not_staff.html").write_text("Go away, {{ 'politely' }}.", encoding="utf-8")
    r = Renderer("en", override_dir=tmp_path)
    assert r.render("not_staff") == "Go away, politely."
    assert r.render("admins_only") == "Only admins can use this command."


def test_sandbox_blocks_unsafe_template_code(tmp_path):
    import jinja2.exceptions
    import pytest

    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "evil.html").write_text(
        "{{ ''.__class__.__mro__[1].__subclasses__() }}", encoding="utf-8"
    )
    with pytest.raises(jinja2.exceptions.SecurityError):
        Renderer("en", override_dir=tmp_path).render("evil")


def test_long_text_is_split_at_line_breaks_within_the_limit():
    lines = [f"<b>line {i}</b> " + "x" * 80 for i in range(200)]
    parts = split_message("\n".join(lines))
    assert len(parts) > 1
    assert all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == "\n".join(lines)
    assert all(p.count("<b>") == p.count("</b>") for p in parts)
