"""Names bound where the code runs: a later import, alternative imports, both branches."""

import sys

command = input()

eval(command)  # the builtin: the import below has not run yet

from safe_eval import eval  # noqa: E402

eval(command)

try:
    from safe_shell import run
except ImportError:
    from os import system as run

run(command)

if sys.platform == "win32":
    from winshell import execute
else:
    from os import popen as execute

execute(command)


def deploy(code):
    run(code)
    execute(code)
    return eval(code)
