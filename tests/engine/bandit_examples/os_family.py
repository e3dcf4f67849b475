"""The rest of the os/popen2/commands shell family."""

import os

import commands
import popen2

command = input()

os.popen2(command)
os.popen3(command)
os.popen4(command)
popen2.popen2(command)
popen2.popen3(command)
popen2.popen4(command)
popen2.Popen3(command)
popen2.Popen4(command)
commands.getoutput(command)
commands.getstatusoutput(command)
os.spawnl(os.P_WAIT, "/bin/sh", "sh", "-c", command)
os.execl("/bin/bash", "bash", "-c", command)
os.execv("/usr/bin/env", ["env", command])
os.spawnlp(os.P_WAIT, "ls", "ls", command)
