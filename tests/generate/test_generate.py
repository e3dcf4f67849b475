"""Generating stubs: templates, style, placement, call-site context and validation."""

from __future__ import annotations

import ast
import os
import re
import textwrap
from pathlib import Path

import pytest

from ark_lsp.analysis import analyze
from ark_lsp.config import Settings
from ark_lsp.generate import (
    ClassSpec,
    FunctionSpec,
    ModuleSpec,
    TemplateError,
    Templates,
    detect_style,
    function_for_call,
    signature_from_text,
)
from ark_lsp.generate.stubs.calls import undefined_call_at
from ark_lsp.generate.stubs.rendering import new_module, place_class, place_function
from ark_lsp.generate.style import requote

SETTINGS = Settings()


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# --- style ------------------------------------------------------------------------------------


def test_style_is_read_from_the_file() -> None:
    style = detect_style(
        dedent(
            """
            '''Module.'''
            from __future__ import annotations

            def f(a, b):
              if a:
                return 'x'
              return 'y'
            """
        )
    )
    assert style.indent == "  "
    assert style.quote == "'"
    assert style.docstring_quote == "'''"
    assert style.future_imports == ("annotations",)
    assert style.typed is False


def test_an_empty_file_gets_pep8() -> None:
    style = detect_style("")
    assert (style.indent, style.quote, style.docstring_quote, style.typed) == (
        "    ",
        '"',
        '"""',
        True,
    )


@pytest.mark.parametrize(
    ("source", "quote", "expected"),
    [
        ("('a', b'x', r'\\d')", '"', '("a", b"x", r"\\d")'),
        ("'it\\'s'", '"', '"it\'s"'),
        ("'say \"hi\"'", '"', "'say \"hi\"'"),
        ('["a", {"k": 1}]', "'", "['a', {'k': 1}]"),
        # boltons' docstring examples are Python 2's: pylint's W1406 failed the gate.
        ("(u'<a>', U\"say 'hi'\", 'x')", '"', '("<a>", "say \'hi\'", "x")'),
        ("u'it\"s'", "'", "'it\"s'"),
    ],
)
def test_requote_keeps_the_value(source: str, quote: str, expected: str) -> None:
    result = requote(source, quote)
    assert result == expected
    assert ast.literal_eval(result) == ast.literal_eval(source)


# --- templates --------------------------------------------------------------------------------


def test_a_function_stub_follows_the_file_style() -> None:
    text = "def load(path):\n  return open(path).read()\n"
    spec = FunctionSpec("save", signature_from_text("path: str, data: bytes = b''", "None"))
    generated = place_function(spec, "io_tools.py", text, SETTINGS, Templates())
    assert generated.offered
    assert generated.change.new_text == dedent(
        '''
        def load(path):
          return open(path).read()


        def save(path, data=b""):
          """Save."""
          raise NotImplementedError("save")
        '''
    )
    assert generated.line == 5


def test_a_workspace_template_overrides_the_builtin(tmp_path: Path) -> None:
    folder = tmp_path / ".ark" / "templates"
    folder.mkdir(parents=True)
    (folder / "function.py.j2").write_text(
        "def {{ function.name }}({{ function.parameters | join(', ') }}):\n"
        "{{ style.indent }}return {{ 'TODO' | quoted }}\n"
    )
    templates = Templates(tmp_path)
    generated = place_function(
        FunctionSpec("todo", signature_from_text("x")), "m.py", "", SETTINGS, templates
    )
    assert generated.text == 'def todo(x):\n    return "TODO"\n'
    assert generated.template == "workspace:function.py.j2"


def test_an_undefined_variable_names_the_template_and_line(tmp_path: Path) -> None:
    folder = tmp_path / ".ark" / "templates"
    folder.mkdir(parents=True)
    (folder / "class.py.j2").write_text("class {{ cls.name }}:\n    {{ cls.nonsense }}\n")
    with pytest.raises(TemplateError) as caught:
        place_class(ClassSpec("A"), "m.py", "", SETTINGS, Templates(tmp_path))
    message = str(caught.value)
    assert "class.py.j2" in message and str(folder / "class.py.j2") in message
    assert "line 2" in message and "nonsense" in message


def test_a_template_rendering_invalid_python_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / ".ark" / "templates"
    folder.mkdir(parents=True)
    (folder / "function.py.j2").write_text("def {{ function.name }}(:\n    pass\n")
    with pytest.raises(TemplateError, match=r"function\.py\.j2 .*rendered invalid Python"):
        place_function(FunctionSpec("f"), "m.py", "", SETTINGS, Templates(tmp_path))


def test_a_template_syntax_error_names_the_line(tmp_path: Path) -> None:
    folder = tmp_path / ".ark" / "templates"
    folder.mkdir(parents=True)
    (folder / "function.py.j2").write_text("def f():\n    {% if %}\n")
    with pytest.raises(TemplateError, match=r"line 2: syntax error"):
        place_function(FunctionSpec("f"), "m.py", "", SETTINGS, Templates(tmp_path))


def test_workspace_templates_run_sandboxed(tmp_path: Path) -> None:
    folder = tmp_path / ".ark" / "templates"
    folder.mkdir(parents=True)
    (folder / "function.py.j2").write_text(
        "{{ style.__class__.__mro__[1].__subclasses__() }}\ndef f():\n    pass\n"
    )
    with pytest.raises(TemplateError, match=r"not allowed in a workspace template|undefined"):
        place_function(FunctionSpec("f"), "m.py", "", SETTINGS, Templates(tmp_path))


def test_a_workspace_template_edited_between_renders_is_read_again(tmp_path: Path) -> None:
    folder = tmp_path / ".ark" / "templates"
    folder.mkdir(parents=True)
    template = folder / "function.py.j2"
    for body in ("1", "2"):
        template.write_text(f"def {{{{ function.name }}}}():\n    return {body}\n")
        os.utime(template, ns=(int(body) * 10**18, int(body) * 10**18))
        generated = place_function(FunctionSpec("f"), "m.py", "", SETTINGS, Templates(tmp_path))
        assert generated.text == f"def f():\n    return {body}\n"


def test_a_workspace_template_includes_no_fifo_and_no_path_out(tmp_path: Path) -> None:
    folder = tmp_path / ".ark" / "templates"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "pipe.j2")  # nothing will ever write to it
    for include, reason in [
        ("pipe.j2", "pipe.j2 is not a regular file inside .ark/templates"),
        ("../../secret.txt", "'../../secret.txt' is not a path inside .ark/templates"),
    ]:
        (folder / "function.py.j2").write_text(f'{{% include "{include}" %}}def f(): ...\n')
        with pytest.raises(TemplateError, match=re.escape(reason)):
            place_function(FunctionSpec("f"), "m.py", "", SETTINGS, Templates(tmp_path))


def test_a_workspace_template_cannot_take_the_memory(tmp_path: Path) -> None:
    folder = tmp_path / ".ark" / "templates"
    folder.mkdir(parents=True)
    (folder / "function.py.j2").write_text("def f():\n    return {{ 'x' * 10**11 }}\n")
    with pytest.raises(TemplateError, match=r"needed more than 512 MiB of memory"):
        place_function(FunctionSpec("f"), "m.py", "", SETTINGS, Templates(tmp_path))


def test_templates_render_again_after_a_render_ran_out_of_time(tmp_path: Path) -> None:
    slow, fine = tmp_path / "slow", tmp_path / "fine"
    for root, body in [
        (slow, "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"),
        (fine, "def {{ function.name }}():\n    pass\n"),
    ]:
        (root / ".ark" / "templates").mkdir(parents=True)
        (root / ".ark" / "templates" / "function.py.j2").write_text(body)
    with pytest.raises(TemplateError, match=r"rendering took longer than 2 s"):
        place_function(FunctionSpec("f"), "m.py", "", SETTINGS, Templates(slow))
    generated = place_function(FunctionSpec("g"), "m.py", "", SETTINGS, Templates(fine))
    assert generated.text == "def g():\n    pass\n"


def test_generated_code_with_a_violation_is_not_offered() -> None:
    spec = FunctionSpec("f", signature_from_text("x=eval('1')"))
    generated = place_function(spec, "m.py", "eval(y)\n", SETTINGS, Templates())
    assert not generated.offered
    # The file's own eval() is not held against the stub; the stub's default is.
    assert generated.validation.problems == ("ARK001 line 4: eval() evaluates arbitrary code",)


def test_a_stub_importing_what_its_tier_forbids_is_not_offered(tmp_path: Path) -> None:
    folder = tmp_path / ".ark" / "templates"
    folder.mkdir(parents=True)
    (folder / "module.py.j2").write_text("import subprocess\n")
    generated = new_module(
        ModuleSpec("ark_generated.job"),
        "ark_generated/job.py",
        SETTINGS,
        Templates(tmp_path),
        detect_style(""),
    )
    assert not generated.offered
    assert "ARK010" in generated.validation.summary


def test_a_class_keeps_its_parameters_as_attributes() -> None:
    spec = ClassSpec("Point", ("Base",), signature_from_text("x: float, y: float = 0.0"))
    generated = place_class(spec, "geo.py", "class Base:\n    pass\n", SETTINGS, Templates())
    namespace: dict[str, object] = {}
    exec(compile(generated.change.new_text, "geo.py", "exec"), namespace)
    point = namespace["Point"](1.5)  # type: ignore[operator]
    assert (point.x, point.y) == (1.5, 0.0)
    assert "def __init__(self, x: float, y: float = 0.0) -> None:" in generated.text


SCRIPT = "def main():\n    print(helper())\n\n\n"


@pytest.mark.parametrize(
    ("text", "before"),
    [
        (SCRIPT + 'if __name__ == "__main__":\n    main()\n', 'if __name__ == "__main__":'),
        (SCRIPT + "# run it\nif '__main__' == __name__:\n    main()\n", "# run it"),
        (SCRIPT + 'if __name__ == "__main__":\n    main()\n\nDONE = True\n', None),
    ],
    ids=["main-guard", "guard-with-its-comment", "guard-not-last"],
)
def test_a_stub_at_the_end_goes_before_the_scripts_main_guard(
    text: str, before: str | None
) -> None:
    # The guard's code runs once what is above it is defined: main() calls helper().
    for generated in (
        place_function(FunctionSpec("helper"), "tool.py", text, SETTINGS, Templates()),
        place_class(ClassSpec("Helper"), "tool.py", text, SETTINGS, Templates()),
    ):
        new_text = generated.change.new_text
        defined = new_text.index("def helper" if "def helper" in new_text else "class Helper")
        if before is None:
            assert defined > new_text.index("DONE = True")
        else:
            assert defined < new_text.index(before)
            assert "\n\n\n" + before in new_text  # two blank lines still part them
        ast.parse(new_text)


def test_a_module_exports_its_stubs() -> None:
    generated = new_module(
        ModuleSpec("pkg.tools", functions=(FunctionSpec("load"), FunctionSpec("_helper"))),
        "pkg/tools.py",
        SETTINGS,
        Templates(),
        detect_style("from __future__ import annotations\n"),
    )
    tree = ast.parse(generated.change.new_text)
    assert ast.get_docstring(tree) == "Tools."
    assert [s.name for s in analyze(generated.change.new_text, "pkg/tools.py").symbols] == [
        "load",
        "_helper",
    ]
    assert '__all__ = ["load"]' in generated.text
    assert "from __future__ import annotations" in generated.text


# --- stubs from call sites --------------------------------------------------------------------

APP = dedent(
    """
    from pathlib import Path


    class Store:
        def load(self, key: str) -> int:
            return 1


    def main(path: Path, count: int) -> float:
        store = Store()
        items = [1, 2]
        total: float = compute_total(items, path.name, count + 1, scale=2.5, flag=True)
        store.save(items)
        if is_ready(store):
            notify(f"{total}")
        return total


    result = main(Path("."), 2)
    report(result)
    """
)


def stub_at(tmp_path: Path, text: str, line: int, column: int) -> str:
    (tmp_path / "pyproject.toml").write_text("")
    path = tmp_path / "app.py"
    path.write_text(text)
    generated = function_for_call(
        text,
        path,
        line,
        column,
        root=tmp_path,
        settings=SETTINGS,
        templates=Templates(),
    )
    assert generated is not None and generated.offered
    return generated.change.new_text


def test_a_stub_takes_names_and_types_from_the_call(tmp_path: Path) -> None:
    new_text = stub_at(tmp_path, APP, 12, 21)  # compute_total(...)
    assert (
        dedent(
            '''
            return total


        def compute_total(
            items: list[int],
            name: str,
            count: int,
            scale: float,
            flag: bool,
        ) -> float:
            """Compute total.

            Generated by ARK from the call at app.py:12.
            """
            raise NotImplementedError("compute_total")


        result = main(Path("."), 2)
        '''
        )
        in new_text
    )


def test_a_condition_makes_a_bool_and_a_statement_returns_none(tmp_path: Path) -> None:
    assert "def is_ready(store: Store) -> bool:" in stub_at(tmp_path, APP, 14, 8)
    assert "def notify(text: str) -> None:" in stub_at(tmp_path, APP, 15, 8)


def test_a_stub_for_a_module_level_call_goes_before_it(tmp_path: Path) -> None:
    new_text = stub_at(tmp_path, APP, 20, 2)  # report(result)
    assert new_text.endswith(
        dedent(
            '''
            result = main(Path("."), 2)


            def report(result: float) -> None:
                """Report.

                Generated by ARK from the call at app.py:20.
                """
                raise NotImplementedError("report")


            report(result)
            '''
        )
    )


def test_a_method_called_on_an_instance_is_added_to_its_class(tmp_path: Path) -> None:
    new_text = stub_at(tmp_path, APP, 13, 11)  # store.save(items)
    assert (
        dedent(
            '''
        class Store:
            def load(self, key: str) -> int:
                return 1

            def save(self, items: list[int]) -> None:
                """Save.

                Generated by ARK from the call at app.py:13.
                """
                raise NotImplementedError("save")


        def main(path: Path, count: int) -> float:
        '''
        )
        in new_text
    )


def test_a_method_of_a_class_in_another_file_goes_into_that_file(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "models.py").write_text("class User:\n    name = 'x'\n")
    text = "from models import User\n\n\ndef greet(user: User):\n    user.rename('y')\n"
    path = tmp_path / "app.py"
    path.write_text(text)
    generated = function_for_call(
        text, path, 5, 10, root=tmp_path, settings=SETTINGS, templates=Templates()
    )
    assert generated is not None
    assert generated.change.path == "models.py"
    assert generated.kind == "method" and generated.target == "User.rename"
    assert "    def rename(self, text: str) -> None:" in generated.change.new_text


def test_self_calls_become_methods_and_defined_names_are_left_alone(tmp_path: Path) -> None:
    text = dedent(
        """
        import os


        class Job:
            def run(self):
                self.prepare(os.getcwd())
                self.run()
                return os.path.join("a", "b")
        """
    )
    new_text = stub_at(tmp_path, text, 6, 14)
    assert "    def prepare(self, getcwd):\n" in new_text  # an untyped file stays untyped
    path = tmp_path / "app.py"
    for line, column in [(7, 14), (8, 24), (6, 0), (2, 0)]:
        assert undefined_call_at(text, line, column, path=path, root=tmp_path, typed=True) is None


def test_a_capitalised_name_gets_a_class(tmp_path: Path) -> None:
    text = "def area(width: float):\n    shape = Rectangle(width, height=2.0)\n    return shape\n"
    new_text = stub_at(tmp_path, text, 2, 12)
    assert new_text.startswith(text)
    assert (
        dedent(
            '''
        class Rectangle:
            """Rectangle."""

            def __init__(self, width: float, height: float) -> None:
                self.width = width
                self.height = height
        '''
        )
        in new_text
    )


def test_positional_names_come_from_the_argument_expressions() -> None:
    text = "def f(rows, user):\n    g(rows[0], user.name, get_rate(), 'x', 3, len(rows), rows[0])\n"
    call = undefined_call_at(text, 2, 4, path=None, root=None, typed=False)
    assert call is not None
    assert [p.name for p in call.spec.signature.parameters] == [
        "row",
        "name",
        "rate",
        "text",
        "number",
        "length",
        "row2",
    ]


def test_a_value_looked_up_by_key_is_named_by_its_key() -> None:
    text = dedent(
        """\
        import os


        class Client:
            def open(self, kwargs, options, key, text, o):
                connect(
                    kwargs.get("timeout"),
                    os.environ.get("HOME"),
                    kwargs.pop("retries", 3),
                    options.setdefault("Content-Type", "text/plain"),
                    os.getenv("LANG"),
                    getattr(o, "size"),
                    options.get(key),
                    self.x,
                    foo(),
                    text.strip(),
                )
        """
    )
    call = undefined_call_at(text, 6, 9, path=None, root=None, typed=False)
    assert call is not None
    assert [p.name for p in call.spec.signature.parameters] == [
        "timeout",
        "home",
        "retries",
        "content_type",
        "lang",
        "size",
        "option",
        "x",
        "foo",
        "strip_result",
    ]


def test_star_arguments_become_star_parameters() -> None:
    text = "def f(a, rest, options):\n    g(a, *rest, key=1, **options)\n"
    call = undefined_call_at(text, 2, 4, path=None, root=None, typed=False)
    assert call is not None
    assert call.spec.signature.render() == "(a, *args, key, **kwargs)"


def test_an_awaited_call_makes_an_async_stub() -> None:
    text = "async def f():\n    value: int = await fetch_count('a')\n"
    call = undefined_call_at(text, 2, 24, path=None, root=None, typed=True)
    assert call is not None and call.spec.is_async
    assert call.spec.signature.render() == "(text: str) -> int"
