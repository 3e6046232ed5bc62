"""Shell completion scripts for bash, zsh and fish, generated from the argparse parser.

The commands and their options come from the same parser ``tmail`` runs with (so a new command
module is completed without touching this file); account and folder names are looked up when
Tab is pressed, by ``tmail completion --names accounts|folders`` (the config file and the
local index; never the network). An option is taken to want an account when its ``dest`` is
``account``, a folder when its ``dest`` or metavar is ``folder``, a file for ``--config``,
``--attach``, ``--html`` and the like.

Nothing here comes from a message: the scripts hold only tmail's own words, quoted for each shell.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

SHELLS = ("bash", "zsh", "fish")
_FILE_DESTS = {"config", "attach", "html", "save"}
_SAFE_WORD = re.compile(r"^[A-Za-z0-9_.:,+=/@%-]+$")


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]  # "-a", "--account"
    help: str
    takes_value: bool
    kind: str = ""  # "account", "folder", "file", "choice", "" (free text)
    choices: tuple[str, ...] = ()
    repeat: bool = False


@dataclass(frozen=True)
class Positional:
    name: str
    kind: str = ""  # "account", "folder", "file", "choice", "" (free text)
    choices: tuple[str, ...] = ()
    many: bool = False


@dataclass(frozen=True)
class CommandSpec:
    name: str
    help: str
    options: tuple[Option, ...] = ()
    positionals: tuple[Positional, ...] = ()
    aliases: tuple[str, ...] = ()
    subcommands: tuple[str, ...] = field(default=())


def _kind(action: argparse.Action) -> str:
    dest = (action.dest or "").lower()
    metavar = str(action.metavar or "").lower()
    if action.choices:
        return "choice"
    if dest == "account" or (dest == "accounts" and metavar == "name"):
        return "account"
    if dest == "folder" or metavar == "folder":
        return "folder"
    if dest in _FILE_DESTS or metavar in ("file", "path", "dir"):
        return "file"
    return ""


def _options(parser: argparse.ArgumentParser) -> tuple[Option, ...]:
    out = []
    for action in parser._actions:
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        if isinstance(action, argparse._HelpAction):
            out.append(Option(tuple(action.option_strings), "show this help", False))
            continue
        takes = action.nargs != 0 and not isinstance(
            action, (argparse._StoreConstAction, argparse._CountAction, argparse._VersionAction)
        )
        out.append(
            Option(
                flags=tuple(action.option_strings),
                help=action.help or "",
                takes_value=takes,
                kind=_kind(action) if takes else "",
                choices=tuple(str(c) for c in action.choices or ()),
                repeat=isinstance(action, (argparse._AppendAction, argparse._CountAction)),
            )
        )
    return tuple(out)


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:  # type: ignore[type-arg]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def _positionals(parser: argparse.ArgumentParser) -> tuple[Positional, ...]:
    out = []
    for action in parser._actions:
        if action.option_strings or isinstance(action, argparse._SubParsersAction):
            continue
        metavar = action.metavar if isinstance(action.metavar, str) else action.dest
        kind = _kind(action)
        if not kind and str(metavar).lower() in ("folder",):
            kind = "folder"
        if not kind and "FILE" in str(metavar):
            kind = "file"
        out.append(
            Positional(
                name=str(metavar),
                kind=kind,
                choices=tuple(str(c) for c in action.choices or ()),
                many=action.nargs in ("*", "+", argparse.REMAINDER),
            )
        )
    return tuple(out)


def describe(parser: argparse.ArgumentParser) -> tuple[tuple[Option, ...], list[CommandSpec]]:
    """The global options and every command (aliases folded in) of ``tmail``'s parser."""
    sub = _subparsers(parser)
    commands: list[CommandSpec] = []
    if sub is not None:
        helps = {a.dest: a.help or "" for a in sub._choices_actions}
        seen: dict[int, str] = {}
        aliases: dict[str, list[str]] = {}
        for name, child in sub.choices.items():
            if id(child) in seen:
                aliases[seen[id(child)]].append(name)
            else:
                seen[id(child)] = name
                aliases[name] = []
        for name, child in sub.choices.items():
            if seen[id(child)] != name:
                continue
            nested = _subparsers(child)
            commands.append(
                CommandSpec(
                    name=name,
                    help=helps.get(name, ""),
                    options=_options(child),
                    positionals=_positionals(child),
                    aliases=tuple(aliases[name]),
                    subcommands=tuple(nested.choices) if nested is not None else (),
                )
            )
    return _options(parser), commands


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    """The completion script for ``shell`` (one of :data:`SHELLS`)."""
    globals_, commands = describe(parser)
    if shell == "bash":
        return _bash(globals_, commands)
    if shell == "zsh":
        return _zsh(globals_, commands)
    if shell == "fish":
        return _fish(globals_, commands)
    raise ValueError(shell)


# ------------------------------------------------------------------------------------ bash


def _words(items: Iterator[str] | list[str] | tuple[str, ...]) -> str:
    return " ".join(w for w in items if _SAFE_WORD.match(w))


def _bash(globals_: tuple[Option, ...], commands: list[CommandSpec]) -> str:
    names = [c.name for c in commands] + [a for c in commands for a in c.aliases]
    out = [
        "# bash completion for tmail (generated by 'tmail completion bash')",
        "_tmail_names() {",
        "    local IFS=$'\\n'",
        '    COMPREPLY=($(compgen -W "$(command tmail "${_tmail_config[@]}" completion '
        '--names "$1" 2>/dev/null)" -- "$cur"))',
        "}",
        "_tmail() {",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        '    local cmd="" i',
        "    _tmail_config=()",
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        '        case "${COMP_WORDS[i]}" in',
        '            --config) _tmail_config=(--config "${COMP_WORDS[i+1]}"); ((i++)) ;;',
        "            -*) ;;",
        '            *) [[ -z $cmd ]] && cmd="${COMP_WORDS[i]}" ;;',
        "        esac",
        "    done",
        '    if [[ $prev == --config ]]; then COMPREPLY=($(compgen -f -- "$cur")); return; fi',
        "    if [[ -z $cmd ]]; then",
        f'        COMPREPLY=($(compgen -W "{_words(names)} '
        f'{_words(f for o in globals_ for f in o.flags)}" -- "$cur"))',
        "        return",
        "    fi",
        '    case "$cmd" in',
    ]
    for c in commands:
        out.append(f"        {'|'.join([c.name, *c.aliases])})")
        out.append('            case "$prev" in')
        for o in c.options:
            if not o.takes_value:
                continue
            pattern = "|".join(o.flags)
            if o.kind == "account":
                action = "_tmail_names accounts"
            elif o.kind == "folder":
                action = "_tmail_names folders"
            elif o.kind == "file":
                action = 'COMPREPLY=($(compgen -f -- "$cur"))'
            elif o.kind == "choice":
                action = f'COMPREPLY=($(compgen -W "{_words(o.choices)}" -- "$cur"))'
            else:
                action = "COMPREPLY=()"
            out.append(f"                {pattern}) {action}; return ;;")
        out.append("            esac")
        opts = _words(f for o in c.options for f in o.flags)
        out.append("            if [[ $cur == -* ]]; then")
        out.append(f'                COMPREPLY=($(compgen -W "{opts}" -- "$cur"))')
        positional = _bash_positional(c)
        if positional:
            out.append("            else")
            out.append(f"                {positional}")
        out.append("            fi")
        out.append("            ;;")
    out += ["    esac", "}", "complete -o default -F _tmail tmail", ""]
    return "\n".join(out)


def _bash_positional(c: CommandSpec) -> str:
    if c.subcommands:
        return f'COMPREPLY=($(compgen -W "{_words(c.subcommands)}" -- "$cur"))'
    kinds = {p.kind for p in c.positionals}
    choices = [ch for p in c.positionals for ch in p.choices]
    if choices:
        return f'COMPREPLY=($(compgen -W "{_words(choices)}" -- "$cur"))'
    if "account" in kinds:
        return "_tmail_names accounts"
    if "folder" in kinds:
        return "_tmail_names folders"
    if "file" in kinds:
        return 'COMPREPLY=($(compgen -f -- "$cur"))'
    return ""


# ------------------------------------------------------------------------------------- zsh


def _zq(text: str) -> str:
    """``text`` inside single quotes in zsh, with _arguments' own specials escaped."""
    text = " ".join(text.split())
    for ch in "\\[]:":
        text = text.replace(ch, "\\" + ch)
    return text.replace("'", "'\\''")


def _zsh_action(kind: str, choices: tuple[str, ...]) -> str:
    if kind == "account":
        return "_tmail_accounts"
    if kind == "folder":
        return "_tmail_folders"
    if kind == "file":
        return "_files"
    if kind == "choice":
        return f"({_words(choices)})"
    return " "


def _zsh_specs(options: tuple[Option, ...]) -> list[str]:
    specs = []
    for o in options:
        for flag in o.flags:
            spec = ("*" if o.repeat else "") + flag + f"[{_zq(o.help)}]"
            if o.takes_value:
                spec += f":{_zq(o.kind or 'value')}:{_zsh_action(o.kind, o.choices)}"
            specs.append(f"'{spec}'")
    return specs


def _zsh(globals_: tuple[Option, ...], commands: list[CommandSpec]) -> str:
    out = [
        "#compdef tmail",
        "# zsh completion for tmail (generated by 'tmail completion zsh')",
        "_tmail_accounts() {",
        "    local -a names",
        '    names=(${(f)"$(command tmail completion --names accounts 2>/dev/null)"})',
        "    compadd -a names",
        "}",
        "_tmail_folders() {",
        "    local -a names",
        '    names=(${(f)"$(command tmail completion --names folders 2>/dev/null)"})',
        "    compadd -a names",
        "}",
        "_tmail() {",
        "    local curcontext=$curcontext state line",
        "    typeset -A opt_args",
        "    local -a commands",
        "    commands=(",
    ]
    for c in commands:
        for name in (c.name, *c.aliases):
            out.append(f"        '{name}:{_zq(c.help)}'")
    out.append("    )")
    out.append("    _arguments -C \\")
    for spec in _zsh_specs(globals_):
        out.append(f"        {spec} \\")
    out += [
        "        '1: :->command' \\",
        "        '*:: :->args'",
        "    case $state in",
        "        command) _describe -t commands 'tmail command' commands ;;",
        "        args)",
        "            case $words[1] in",
    ]
    for c in commands:
        specs = _zsh_specs(c.options)
        if c.subcommands:
            specs.append(f"'1:command:({_words(c.subcommands)})'")
            specs.append("'*:: :_files'")
        else:
            for p in c.positionals:
                action = _zsh_action(p.kind, p.choices)
                specs.append(f"'{'*' if p.many else ''}:{_zq(p.name)}:{action}'")
        out.append(f"                {'|'.join([c.name, *c.aliases])})")
        out.append("                    _arguments \\")
        out += [f"                        {s} \\" for s in specs[:-1]]
        out.append(f"                        {specs[-1] if specs else ''}")
        out.append("                    ;;")
    out += [
        "            esac ;;",
        "    esac",
        "}",
        "# autoloaded from $fpath (as _tmail) it completes; sourced, it registers itself",
        'if [[ $funcstack[1] == _tmail ]]; then _tmail "$@"; else compdef _tmail tmail; fi',
        "",
    ]
    return "\n".join(out)


# ------------------------------------------------------------------------------------ fish


def _fq(text: str) -> str:
    return "'" + " ".join(text.split()).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_flags(o: Option) -> str:
    parts = []
    for flag in o.flags:
        if flag.startswith("--"):
            parts.append(f"-l {flag[2:]}")
        elif len(flag) == 2:
            parts.append(f"-s {flag[1]}")
        else:
            parts.append(f"-o {flag[1:]}")
    return " ".join(parts)


def _fish_values(kind: str, choices: tuple[str, ...]) -> str:
    if kind == "account":
        return " -x -a '(command tmail completion --names accounts 2>/dev/null)'"
    if kind == "folder":
        return " -x -a '(command tmail completion --names folders 2>/dev/null)'"
    if kind == "file":
        return " -r -F"
    if kind == "choice":
        return f" -x -a {_fq(_words(choices))}"
    return " -x"


def _fish(globals_: tuple[Option, ...], commands: list[CommandSpec]) -> str:
    out = [
        "# fish completion for tmail (generated by 'tmail completion fish')",
        "complete -c tmail -e",
        "complete -c tmail -f",
    ]
    top = "-n __fish_use_subcommand"
    for o in globals_:
        values = _fish_values(o.kind, o.choices) if o.takes_value else ""
        out.append(f"complete -c tmail {top} {_fish_flags(o)}{values} -d {_fq(o.help)}")
    for c in commands:
        for name in (c.name, *c.aliases):
            out.append(f"complete -c tmail {top} -a {name} -d {_fq(c.help)}")
    for c in commands:
        cond = f"-n '__fish_seen_subcommand_from {' '.join([c.name, *c.aliases])}'"
        for o in c.options:
            values = _fish_values(o.kind, o.choices) if o.takes_value else ""
            out.append(f"complete -c tmail {cond} {_fish_flags(o)}{values} -d {_fq(o.help)}")
        if c.subcommands:
            out.append(f"complete -c tmail {cond} -a {_fq(_words(c.subcommands))}")
        for p in c.positionals:
            if p.kind in ("account", "folder", "choice"):
                out.append(f"complete -c tmail {cond}{_fish_values(p.kind, p.choices)}")
            elif p.kind == "file":
                out.append(f"complete -c tmail {cond} -F")
    return "\n".join(out) + "\n"
