"""The shell= keyword: values that are not literals, and functions outside subprocess."""

import asyncio
import subprocess

command = input()
flag = command.startswith("!")
options = {"shell": True}

subprocess.run(command, shell=flag)
subprocess.run(command, shell="yes")
subprocess.run(command, shell=1)
subprocess.run(command, shell=[])
subprocess.run(command, shell="")
subprocess.run(command, **options)
subprocess.run(  # a call over several lines
    command,
    check=True,
    shell=True,
)


def deploy(cmd, shell=False):
    return cmd, shell


deploy(command, shell=True)
asyncio.create_subprocess_shell(command)
subprocess.getoutput(command)
subprocess.getstatusoutput(command)
