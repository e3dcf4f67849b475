# ruff: noqa: B009
"""Reaching the dangerous functions without naming them plainly."""

import builtins
import os

code = input()

builtins.eval(code)
builtins.exec(code)
getattr(os, "system")(code)
getattr(builtins, "eval")(code)
evaluate = eval
evaluate(code)


class Cursor:
    def exec(self, statement):
        return statement

    def eval(self, expression):
        return expression

    def system(self, name):
        return name


cursor = Cursor()
cursor.exec("SELECT 1")
cursor.eval("1 + 1")
cursor.system("ls")
