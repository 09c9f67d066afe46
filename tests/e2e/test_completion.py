"""Tab completion in the real bash, zsh and fish, from the scripts `cmake --install` puts where
each shell looks for them, with nothing sourced by hand.

The scripts are short and fixed: on each TAB they ask the helper (`iotspot-helper __complete`),
which answers from the one table of commands and options (src/cli/command_table.h). These tests
take the helper's parser as the truth: for every command and every option named anywhere (help,
man page, any shell's offer), what each shell offers after `iotspot-helper COMMAND --` must be
exactly what the parser accepts. An option the parser accepts but completion does not offer, or
the other way round, fails here.
"""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from support.harness import HelperTestCase
from test_shells import SHELL_ARGV, InteractiveShell

BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"


class InstalledTree:
    """The build tree installed once into a temporary prefix, as `cmake --install` does."""

    def __init__(self, helper_bin):
        self.root = tempfile.mkdtemp(prefix="iotspot-completion-")
        self.prefix = os.path.join(self.root, "usr")
        proc = subprocess.run(["cmake", "--install", os.path.dirname(helper_bin),
                               "--prefix", self.prefix], capture_output=True, text=True,
                              timeout=120)
        if proc.returncode != 0:
            raise RuntimeError("cmake --install failed: " + proc.stderr)
        self.bindir = os.path.join(self.prefix, "bin")
        self.helper = os.path.join(self.bindir, "iotspot-helper")
        share = os.path.join(self.prefix, "share")
        self.files = {
            "bash": os.path.join(share, "bash-completion", "completions", "iotspot-helper"),
            "zsh": self.one(os.path.join(share, "zsh", "*", "_iotspot-helper")),
            "fish": os.path.join(share, "fish", "vendor_completions.d", "iotspot-helper.fish"),
        }

    @staticmethod
    def one(pattern):
        found = glob.glob(pattern)
        if len(found) != 1:
            raise RuntimeError("expected one file for %s, found %s" % (pattern, found))
        return found[0]

    def remove(self):
        shutil.rmtree(self.root, ignore_errors=True)


class CompletionTestCase(HelperTestCase):
    PROFILES = ("default", "staging-2", "eu.prod_1")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tree = InstalledTree(cls.bin)
        cls.addClassCleanup(cls.tree.remove)

    def setUp(self):
        super().setUp()
        for profile in self.PROFILES:
            self.configure(profile)

    def shell_env(self, **extra):
        # The installed helper first on PATH; XDG_DATA_DIRS is where bash-completion and fish
        # look for vendor completions (as /usr/share is for the package).
        return self.env(PATH=self.tree.bindir + ":/usr/bin:/bin", TERM="dumb",
                        XDG_DATA_DIRS=os.path.join(self.tree.prefix, "share"), **extra)

    def bash_complete(self, *words, env=None):
        """COMPREPLY for `iotspot-helper WORDS...` (the last word is being completed), with the
        completion loaded by bash-completion's own loader."""
        # bash-completion 2.12 (Debian 13) renamed __load_completion to _comp_load.
        script = ("source %s\nif declare -F _comp_load >/dev/null; then _comp_load iotspot-helper; "
                  "else __load_completion iotspot-helper; fi || exit 3\n"
                  "function=$(complete -p iotspot-helper | sed -E 's/.* -F ([^ ]+) .*/\\1/')\n"
                  "COMP_WORDS=(iotspot-helper \"$@\"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
                  # As bash has it: no blank on either side of a "=" it split off a word.
                  "COMP_LINE=iotspot-helper; prev=\n"
                  "for word in \"$@\"; do [[ $word == = || $prev == = ]] && COMP_LINE+=$word "
                  "|| COMP_LINE+=\" $word\"; prev=$word; done\n"
                  "COMP_POINT=${#COMP_LINE}\n"
                  "\"$function\" iotspot-helper \"${COMP_WORDS[COMP_CWORD]}\" "
                  "\"${COMP_WORDS[COMP_CWORD-1]}\"\nprintf '%%s\\n' \"${COMPREPLY[@]}\"\n"
                  % BASH_COMPLETION)
        proc = subprocess.run(["bash", "-c", script, "bash", *words], capture_output=True,
                              text=True, timeout=60, env=env or self.shell_env())
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr, "")
        # Readline offers each match once.
        return list(dict.fromkeys(line for line in proc.stdout.splitlines() if line))

    def fish_complete(self, line, env=None):
        proc = subprocess.run(["fish", "-c", "complete -C '%s'" % line],
                              capture_output=True, text=True, timeout=60,
                              env=env or self.shell_env())
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr, "")
        return [entry.split("\t")[0] for entry in proc.stdout.splitlines()]

    def zsh_session(self):
        """An interactive zsh with the installed folder on fpath and compinit run, as a user's
        ~/.zshrc would; compadd is wrapped to record every candidate offered."""
        with open(os.path.join(self.home, ".zshrc"), "w") as f:
            f.write("fpath=(%s $fpath)\nautoload -Uz compinit\ncompinit -u -d ~/.zcompdump\n"
                    "PS1='$ '\n"
                    "compadd() {\n"
                    "  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd \"$@\"; return; fi\n"
                    "  local -a hits; builtin compadd -A hits \"$@\"\n"
                    "  (( $#hits )) && print -rl -- $hits >>~/candidates\n"
                    "  builtin compadd \"$@\"\n}\n"
                    "save-line() { print -r -- \"$BUFFER\" >>~/lines; BUFFER= }\n"
                    "zle -N save-line\nbindkey '^T' save-line\n"
                    % os.path.dirname(self.tree.files["zsh"]))
        return InteractiveShell(self, SHELL_ARGV["zsh"], self.shell_env())

    def zsh_offers(self, session, line):
        """What zsh offers for `line` + TAB (the line is then cleared)."""
        path = os.path.join(self.home, "candidates")
        if os.path.exists(path):
            os.remove(path)
        session.type(line + "\t\x14")
        session.run()
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return f.read().split()


class DriftTest(CompletionTestCase):
    """Every shell offers exactly the options the parser accepts, for every command."""

    def listed_commands(self):
        text = self.run_helper("--help", check=True).stdout
        block = text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
        return [line.split()[0] for line in block.splitlines()]

    def named_options(self, extra=()):
        """Every --option named in any help text, the man page or `extra`."""
        texts = [self.run_helper("--help", check=True).stdout,
                 self.run_helper("__man", check=True).stdout.replace("\\-", "-")]
        texts += [self.run_helper(c, "--help", check=True).stdout for c in self.listed_commands()]
        names = set()
        for text in texts + list(extra):
            names.update(re.findall(r"(?<![\w-])--([a-z][a-z-]*[a-z])", text))
        return names

    def parser_accepts(self, command, option):
        # --help makes a command that parses print its help and exit 0; a value-taking option
        # needs a value, a flag must not have one.
        for args in ((command, "--help", "--%s=1" % option), (command, "--help", "--" + option)):
            if self.run_helper(*args).returncode == 0:
                return True
        return False

    def test_the_installed_scripts_are_what_the_helper_prints(self):
        for shell, path in self.tree.files.items():
            with self.subTest(shell=shell), open(path) as f:
                self.assertEqual(f.read(), self.run_helper("completion", shell, check=True).stdout)

    def test_commands_are_what_the_parser_knows(self):
        commands = self.listed_commands()
        self.assertIn("token", commands)
        self.assertIn("completion", commands)
        for command in commands:
            self.assertEqual(self.run_helper(command, "--help").returncode, 0, command)
        self.assertEqual(sorted(self.bash_complete("")), sorted(commands))
        self.assertEqual(sorted(self.fish_complete("iotspot-helper ")), sorted(commands))
        session = self.zsh_session()
        self.assertEqual(sorted(self.zsh_offers(session, "iotspot-helper ")), sorted(commands))
        session.finish()

    def test_every_shell_offers_exactly_what_the_parser_accepts(self):
        commands = self.listed_commands()
        offers = {"bash": {}, "fish": {}, "zsh": {}}
        session = self.zsh_session()
        glued = {}
        for command in commands:
            words = self.bash_complete(command, "--")
            glued[command] = [word for word in words if word.endswith("=")]
            offers["bash"][command] = {word.rstrip("=") for word in words}
            offers["fish"][command] = {word.rstrip("=") for word in
                                       self.fish_complete("iotspot-helper %s --" % command)}
            offers["zsh"][command] = {word.rstrip("=") for word in
                                      self.zsh_offers(session, "iotspot-helper %s --" % command)
                                      if word.startswith("--")}
        session.finish()
        # "--name=" is offered exactly for the options that need a value.
        for command, words in glued.items():
            for word in offers["bash"][command]:
                needs_value = self.run_helper(command, "--help", word).returncode != 0
                self.assertEqual(word + "=" in words, needs_value, (command, word))
        every = [" ".join(sorted(o)) for shell in offers.values() for o in shell.values()]
        universe = self.named_options(every)
        self.assertIn("min-ttl", universe)
        for command in commands:
            accepted = {"--" + o for o in universe if self.parser_accepts(command, o)}
            self.assertIn("--profile", accepted)
            for shell in offers:
                with self.subTest(command=command, shell=shell):
                    self.assertEqual(offers[shell][command], accepted)
        # The drift the table was made to end: --min-ttl for get, store and erase everywhere.
        for shell in offers:
            for command in ("get", "store", "erase"):
                self.assertIn("--min-ttl", offers[shell][command], (shell, command))


class ProfilesTest(CompletionTestCase):
    """Profile names come from the helper (`iotspot-helper __complete`), not from each shell
    parsing the config file: a profile configured only by the environment is offered too."""

    def env_profile(self):
        return self.shell_env(IOTSPOT_PROFILE="from-env", IOTSPOT_CLIENT_ID="abc")

    def test_bash(self):
        self.assertEqual(sorted(self.bash_complete("--profile", "")), sorted(self.PROFILES))
        self.assertEqual(self.bash_complete("--profile", "st"), ["staging-2"])
        self.assertEqual(self.bash_complete("--profile", "=", "eu"), ["eu.prod_1"])
        self.assertEqual(sorted(self.bash_complete("token", "--profile", "=")),
                         sorted(self.PROFILES))
        self.assertEqual(self.bash_complete("token", "--profile", "fr", env=self.env_profile()),
                         ["from-env"])

    def test_fish(self):
        self.assertEqual(sorted(self.fish_complete("iotspot-helper --profile ")),
                         sorted(self.PROFILES))
        self.assertEqual(self.fish_complete("iotspot-helper token --profile fr",
                                            env=self.env_profile()), ["from-env"])
        self.assertEqual(self.fish_complete("iotspot-helper --profile=st"),
                         ["--profile=staging-2"])

    def test_zsh(self):
        session = self.zsh_session()
        self.assertEqual(sorted(self.zsh_offers(session, "iotspot-helper --profile ")),
                         sorted(self.PROFILES))
        session.finish()

    def test_a_broken_config_file_offers_nothing_and_prints_nothing(self):
        with open(os.path.join(self.home, ".config", "iotspot-helper", "config"), "a") as f:
            f.write("this is not a line the config reader knows\n")
        self.assertEqual(self.bash_complete("--profile", ""), [])
        self.assertEqual(self.fish_complete("iotspot-helper --profile "), [])

    def test_a_name_that_is_not_a_profile_name_never_reaches_the_terminal(self):
        env = self.env(IOTSPOT_PROFILE="evil\x1b]0;title\x07", IOTSPOT_CLIENT_ID="abc")
        proc = self.run_helper("__complete", "--", "--profile", "", env=env)
        self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, ":none\n", ""))


class CompleteCommandTest(CompletionTestCase):
    """`iotspot-helper __complete -- WORDS...`, which the scripts run on each TAB."""

    def complete(self, *words):
        proc = self.run_helper("__complete", "--", *words)
        self.assertEqual((proc.returncode, proc.stderr), (0, ""), words)
        return proc.stdout.splitlines()

    def test_candidates_then_the_directive(self):
        self.assertEqual(self.complete("env", "--shell", "z"), ["zsh", ":none"])
        self.assertEqual(self.complete("token", "--min"),
                         ["--min-ttl=\ta token with at least this much remaining life", ":none"])
        self.assertEqual(self.complete("--profile=d"), ["--profile=default", ":none"])
        self.assertEqual(self.complete("sink", ""), [":file"])
        self.assertEqual(self.complete("exec", "--", "git", "pu"), [":command 2"])

    def test_words_it_cannot_make_sense_of_offer_nothing_quietly(self):
        for words in (["bogus", ""], ["--", ""], ["token", "--bogus="], ["--json=x"],
                      ["token", "--min-ttl", ""], ["\x1b[31m", ""]):
            self.assertEqual(self.complete(*words), [":none"])


class BehaviourTest(CompletionTestCase):
    """What a user types, in each shell."""

    def some_file(self):
        """A file only completion can find: its absolute path."""
        path = os.path.join(self.home, "ca-bundle.pem")
        with open(path, "w") as f:
            f.write("")
        return path

    def test_bash(self):
        c = self.bash_complete
        self.assertEqual(c("to"), ["token"])
        self.assertEqual(c("e"), ["env", "exec", "erase"])
        self.assertEqual(c("--profile", "staging-2", "hea"), ["header"])
        self.assertEqual(c("env", "--shell", "f"), ["fish"])
        self.assertEqual(c("token", "--m"), ["--min-ttl="])
        self.assertEqual(c("status", "--m"), [])
        self.assertEqual(c("exec", "--", "printen"), ["printenv"])
        self.assertEqual(c("token", ""), [])
        self.assertEqual(sorted(c("completion", "")), ["bash", "fish", "zsh"])
        path = self.some_file()
        self.assertEqual(c("configure", "--ca-file", path[:-6]), [path])
        self.assertEqual(c("configure", "--ca-file", "=", path[:-6]), [path])
        self.assertEqual(c("sink", "--once", path[:-6]), [path])

    def test_bash_plugin_loads_completion_without_bash_completion(self):
        plugin = os.path.join(self.tree.prefix, "share", "iotspot-helper", "shell", "iotspot.bash")
        proc = subprocess.run(["bash", "-c", "source '%s'; complete -p iotspot-helper" % plugin],
                              capture_output=True, text=True, timeout=60, env=self.shell_env())
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("iotspot-helper", proc.stdout)

    def test_fish(self):
        c = self.fish_complete
        self.assertEqual(c("iotspot-helper to"), ["token"])
        self.assertEqual(c("iotspot-helper --profile staging-2 hea"), ["header"])
        self.assertEqual(c("iotspot-helper env --shell f"), ["fish"])
        self.assertNotIn("--min-ttl", c("iotspot-helper status --"))
        self.assertEqual(c("iotspot-helper exec -- printen"), ["printenv"])
        self.assertIn("--cacert", c("iotspot-curl --cace"))
        path = self.some_file()
        self.assertEqual(c("iotspot-helper configure --ca-file " + path[:-6]), [path])
        self.assertEqual(c("iotspot-helper configure --ca-file=" + path[:-6]),
                         ["--ca-file=" + path])
        self.assertEqual(c("iotspot-helper sink " + path[:-6]), [path])

    def test_zsh(self):
        session = self.zsh_session()
        lines = []

        def complete(line):
            session.type(line + "\t\x14")
            session.run()
            with open(os.path.join(self.home, "lines")) as f:
                lines[:] = f.read().splitlines()
            return lines[-1]

        self.assertEqual(complete("iotspot-helper to"), "iotspot-helper token ")
        self.assertEqual(complete("iotspot-helper --profile st"), "iotspot-helper --profile staging-2 ")
        self.assertEqual(complete("iotspot-helper --profile=eu"), "iotspot-helper --profile=eu.prod_1 ")
        self.assertEqual(complete("iotspot-helper env --shell fi"), "iotspot-helper env --shell fish ")
        self.assertEqual(complete("iotspot-helper token --mi"), "iotspot-helper token --min-ttl=")
        self.assertEqual(complete("iotspot-helper exec -- printen"), "iotspot-helper exec -- printenv ")
        self.assertEqual(complete("iotspot-helper completion f"), "iotspot-helper completion fish ")
        self.assertEqual(complete("iotspot-curl --cace"), "iotspot-curl --cacert ")
        path = self.some_file()
        self.assertEqual(complete("iotspot-helper configure --ca-file=" + path[:-6]),
                         "iotspot-helper configure --ca-file=%s " % path)
        self.assertEqual(complete("iotspot-helper sink " + path[:-6]),
                         "iotspot-helper sink %s " % path)
        session.finish()


class ManualTest(CompletionTestCase):
    """The man pages: installed, lint-clean, and naming every command and exit code."""

    def test_the_man_pages_are_installed_and_lint_clean(self):
        mandir = os.path.join(self.tree.prefix, "share", "man", "man1")
        pages = sorted(os.listdir(mandir))
        self.assertEqual(pages, ["git-credential-iotspot.1", "iotspot-curl.1", "iotspot-helper.1"])
        for page in pages:
            with self.subTest(page=page):
                proc = subprocess.run(["mandoc", "-T", "lint", os.path.join(mandir, page)],
                                      capture_output=True, text=True, timeout=60)
                self.assertEqual((proc.returncode, proc.stdout + proc.stderr), (0, ""))
                proc = subprocess.run(["man", "--warnings", "-l", os.path.join(mandir, page)],
                                      capture_output=True, text=True, timeout=60,
                                      env=dict(self.env(), MANWIDTH="80", MAN_KEEP_STDERR="1"))
                self.assertEqual((proc.returncode, proc.stderr), (0, ""))

    def test_the_man_page_covers_every_command_and_exit_code(self):
        proc = subprocess.run(["man", "-l", os.path.join(self.tree.prefix, "share", "man", "man1",
                                                         "iotspot-helper.1")],
                              capture_output=True, text=True, timeout=60,
                              env=dict(self.env(), MANWIDTH="100"))
        text = re.sub(".\b", "", proc.stdout)
        help_text = self.run_helper("--help", check=True).stdout
        commands = help_text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
        for name in (line.split()[0] for line in commands.splitlines()):
            if name not in ("help", "version"):
                self.assertRegex(text, r"\n   ([a-z]+, )*%s\b" % name)
        for code in range(7):
            self.assertRegex(text, r"\n       %d\s" % code)
        for heading in ("ENVIRONMENT", "FILES", "EXIT STATUS", "EXAMPLES", "SEE ALSO"):
            self.assertIn("\n" + heading + "\n", text)
        self.assertIn("IOTSPOT_CLIENT_SECRET", text)


if __name__ == "__main__":
    unittest.main()
