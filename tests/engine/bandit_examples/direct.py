"""Plain calls, each flagged by both tools; text that only looks like a call is not.

Nothing here is ever run: the agreement test reads it with bandit and ARK.
"""

import os
import subprocess

user_input = input()

eval(user_input)
exec(user_input)
os.system(user_input)
os.popen(user_input)
subprocess.run(user_input, shell=True)
subprocess.Popen(user_input, shell=True)
subprocess.call(user_input, shell=True)
subprocess.check_call(user_input, shell=True)
subprocess.check_output(user_input, shell=True)
result = eval("1 + 1")


def inside_a_function(command):
    os.system(command)
    return subprocess.run(command, shell=True, check=False)


class Holder:
    def method(self, code):
        exec(code)


# Without a shell: neither tool says anything.
subprocess.run([user_input], shell=False)
subprocess.run([user_input], shell=0)
subprocess.run([user_input], shell=None)
subprocess.run([user_input])

# Text is not code: eval(user_input), os.system("rm -rf /"), subprocess.run(x, shell=True)
TEXT = "eval(user_input); exec(user_input); os.system('ls')"
OTHER = 'subprocess.run("ls", shell=True)'
SQL = f"os.popen({user_input!r})"
"""exec(user_input)
os.system(user_input)
"""
