# ruff: noqa: F403, F405
"""Names bound by a wildcard import: neither tool knows where they come from."""

from os import *
from subprocess import *

command = input()

system(command)
run(command, shell=True)
