# bash completion for shcx. Installed as share/bash-completion/completions/shcx; or
# `source contrib/completion/shcx.bash`. Subcommands and options come from the binary's own
# `--help`, so the completion follows whichever shcx is on PATH.

# The lines of a help text's "Subcommands:" section, first word only.
_shcx_subcommands() {
    sed -n '/^Subcommands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p' <<<"$1"
}

_shcx() {
    local cmd=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} prev=
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    local -a chain=()
    local i word help
    # Walk the subcommands typed so far (shcx share user ...).
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        [[ $word == -* ]] && continue
        help=$("$cmd" "${chain[@]}" --help 2>/dev/null) || return 0
        if grep -qxF -- "$word" <<<"$(_shcx_subcommands "$help")"; then
            chain+=("$word")
        else
            break
        fi
    done
    help=$("$cmd" "${chain[@]}" --help 2>/dev/null) || return 0

    # The value of an option that takes one (its help line names it in capitals: FILE, TIME, N).
    if [[ $prev == -* ]] && grep -qE -- "^  (-[a-zA-Z],)?$prev [A-Z][A-Z0-9:|=_-]*( |$)" <<<"$help"; then
        if [[ $prev == --policy ]]; then
            local names
            names=$(sed -n 's/.*a built-in name (\([^)]*\)).*/\1/p' <<<"$help" | tr -d ',')
            mapfile -t COMPREPLY < <(compgen -W "$names" -- "$cur")
        fi
        mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$cur")
        return 0
    fi
    if [[ $cur == -* ]]; then
        local opts
        opts=$(sed -n 's/^  \(-[^ ]*\).*/\1/p' <<<"$help" | tr ',' '\n')
        mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
        return 0
    fi
    local subs
    subs=$(_shcx_subcommands "$help")
    if [[ -n $subs ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
    else
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
    return 0
}
complete -o filenames -F _shcx shcx
