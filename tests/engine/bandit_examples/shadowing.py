"""Names that look like the dangerous builtins but are bound to something else."""

import subprocess

eval("still the builtin: the def below has not run yet")


def eval(expression):
    return expression


eval("not the builtin: the module's own eval")


def runner(exec, system):
    exec("a parameter, not the builtin")
    return system("a parameter")


class Sandbox:
    def exec(self, code):
        return code

    def use(self):
        # A class body's names are not visible in its methods: this is the builtin.
        exec("print(1)")
        return self.exec("a method")


def with_a_local(code):
    exec = print
    exec(code)  # an assignment shadows it


def loop_target(codes):
    for exec in (print, repr):
        exec(codes)  # a loop target shadows it


def handler_name(code):
    try:
        return int(code)
    except ValueError as exec:
        return exec(code)  # an except-as name shadows it


def comprehension(codes):
    return [exec(code) for exec, code in codes]


def subprocess_shadowed(run):
    run("ls", shell=True)  # a parameter named run
    subprocess.run("ls", shell=True)
