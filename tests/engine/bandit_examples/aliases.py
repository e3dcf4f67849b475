"""Calls reached through import aliases."""

import os as operating_system
import os.path
import subprocess as sp
from os import popen
from os import system as run
from subprocess import Popen as Process
from subprocess import check_output

command = input()

sp.run(command, shell=True)
sp.Popen(command, shell=True)
Process(command, shell=True)
check_output(command, shell=True)
run(command)
popen(command)
operating_system.system(command)
os.system(command)  # `import os.path` binds `os`
os.path.join(command, "x")  # not a shell


def local_import(cmd):
    import subprocess as proc
    from os import system as sys_run

    proc.call(cmd, shell=True)
    sys_run(cmd)
