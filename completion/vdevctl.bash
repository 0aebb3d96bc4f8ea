# bash completion for vdevctl, the vdev device servers' command-line client.
# Needs nothing but bash; installed as share/bash-completion/completions/vdevctl.

# Sockets and directories (to walk into) that start with $1.
_vdevctl_sockets()
{
    local f
    while IFS= read -r f; do
        if [[ -d $f ]]; then
            COMPREPLY+=("$f/")
        elif [[ -S $f ]]; then
            COMPREPLY+=("$f")
        fi
    done < <(compgen -f -- "$1")
}

# The value names a running server lists; with $2 = ext only settable ones.
_vdevctl_names()
{
    local sock=$1 only_ext=$2 w names=()
    for w in $(command vdevctl "$sock" mgmt list 2>/dev/null); do
        [[ -n $only_ext && $w != *:ext ]] && continue
        names+=("${w%%:*}")
    done
    COMPREPLY=($(compgen -W "${names[*]}" -- "$cur"))
}

_vdevctl()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local vfio="info read write reset save load"
    local mgmt="list get set stats watch upgrade mgmt"
    local opts="--json --hex --interval= --count= --log-level= --help --version -j -x -i -n -v -h -V"
    local i w sock= cmd= nargs=0
    COMPREPLY=()

    # --opt=value arrives as "--opt" "=" "value" (= breaks words)
    [[ $cur == = ]] && cur=
    [[ $prev == = ]] && prev=${COMP_WORDS[COMP_CWORD-2]}
    case $prev in
        -i|--interval|-n|--count) return ;;
        --log-level)
            COMPREPLY=($(compgen -W "error warn info debug" -- "$cur"))
            return ;;
    esac
    # the positional words so far: SOCKET, COMMAND, its arguments
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        case $w in
            -i|-n|--interval|--count|--log-level)
                [[ ${COMP_WORDS[i+1]} == = ]] && ((i++))
                ((i++)); continue ;;
            =|-*) continue ;;
        esac
        [[ ${COMP_WORDS[i-1]} == = ]] && continue
        if [[ -z $sock ]]; then sock=$w
        elif [[ -z $cmd ]]; then cmd=$w
        else ((nargs++))
        fi
    done
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        [[ ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
        return
    fi
    if [[ -z $sock ]]; then
        compopt -o nospace -o filenames 2>/dev/null
        _vdevctl_sockets "$cur"
        return
    fi
    if [[ -z $cmd ]]; then
        if [[ $sock == *.mgmt ]]; then
            COMPREPLY=($(compgen -W "$mgmt" -- "$cur"))
        elif [[ -S $sock.mgmt ]]; then
            COMPREPLY=($(compgen -W "$vfio" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$vfio $mgmt" -- "$cur"))
        fi
        return
    fi
    case $cmd in
        read|write)
            case $nargs in
                0) COMPREPLY=($(compgen -W "bar0 bar1 bar2 bar3 bar4 bar5 rom config" -- "$cur")) ;;
                2) COMPREPLY=($(compgen -W "1 2 4 8" -- "$cur")) ;;
            esac ;;
        save|load)
            ((nargs == 0)) && COMPREPLY=($(compgen -f -- "$cur")) && compopt -o filenames 2>/dev/null ;;
        upgrade)
            ((nargs == 0)) && COMPREPLY=($(compgen -f -- "$cur")) && compopt -o filenames 2>/dev/null ;;
        get)
            ((nargs == 0)) && _vdevctl_names "$sock" "" ;;
        set)
            ((nargs == 0)) && _vdevctl_names "$sock" ext ;;
        mgmt)
            ((nargs == 0)) && COMPREPLY=($(compgen -W "help info list values get doc set stats save load upgrade" -- "$cur")) ;;
    esac
}
complete -F _vdevctl vdevctl
