# bash completion for vdevc, the vdev device-model compiler. The options
# come from `vdevc --help`, so new ones complete without editing this file;
# installed as share/bash-completion/completions/vdevc.

_vdevc()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local emit_kinds="c h json doc guest-h check"
    local help opts opt sub=
    COMPREPLY=()
    # vdevc build ...: its own options (vdevc build --help) and files
    [[ $COMP_CWORD -gt 1 && ${COMP_WORDS[1]} == build ]] && sub=build

    # --opt=value arrives as "--opt" "=" "value" (= breaks words)
    if [[ $cur == = ]]; then
        opt=$prev cur=
    elif [[ $prev == = ]]; then
        opt=${COMP_WORDS[COMP_CWORD-2]}
    elif [[ $cur == --*=* ]]; then
        opt=${cur%%=*} cur=${cur#*=}
    fi
    help=$(command vdevc $sub --help 2>/dev/null)
    if [[ -n $opt ]]; then
        case $opt in
            --emit) COMPREPLY=($(compgen -W "$emit_kinds" -- "$cur")) ;;
            --header) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
            *)  # an option whose help shows its values: --opt=a|b|c
                local vals
                vals=$(grep -oE -- "$opt=[a-z0-9-]+(\|[a-z0-9-]+)+" <<<"$help" | head -n1)
                vals=${vals#*=}
                COMPREPLY=($(compgen -W "${vals//|/ }" -- "$cur")) ;;
        esac
        return
    fi
    case $prev in
        -o|-H) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
    if [[ $cur == -* ]]; then
        opts=$(grep -oE -- '(^|[ ,])--?[A-Za-z][A-Za-z0-9-]*=?' <<<"$help" | tr -d ' ,' | sort -u)
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        [[ ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
        return
    fi
    # .vdev files and directories to find them in (and companions to link)
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -d -- "$cur") $(compgen -f -X '!*.vdev' -- "$cur"))
    if [[ $sub == build ]]; then
        COMPREPLY+=($(compgen -f -X '!*.c' -- "$cur") $(compgen -f -X '!*.o' -- "$cur")
            $(compgen -f -X '!*.a' -- "$cur"))
    elif [[ $COMP_CWORD -eq 1 ]]; then
        local c # the subcommands, once even beside a folder named build
        for c in build fmt; do
            [[ $c == "$cur"* && " ${COMPREPLY[*]} " != *" $c "* ]] && COMPREPLY+=($c)
        done
    fi
}
complete -F _vdevc vdevc
