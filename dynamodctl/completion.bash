# bash completion for dynamodctl: commands, options, and service names asked from the running runtime.
_dynamodctl() {
  local cur prev words cword
  _init_completion 2>/dev/null || { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; cword=$COMP_CWORD; words=("${COMP_WORDS[@]}"); }
  local commands="list status start stop restart tree logs reload check shutdown"
  local command="" i
  for ((i = 1; i < cword; i++)); do
    case "${words[i]}" in
      --socket) ((i++)) ;;
      -*) ;;
      *) command=${words[i]}; break ;;
    esac
  done
  if [[ "$prev" == "--socket" ]]; then COMPREPLY=($(compgen -f -- "$cur")); return; fi
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "--socket --json --no-block --help --version -f -n --watch" -- "$cur")); return
  fi
  case "$command" in
    "") COMPREPLY=($(compgen -W "$commands" -- "$cur")) ;;
    status|start|stop|restart|logs)
      local socket_args=() j
      for ((j = 1; j < cword; j++)); do [[ "${words[j]}" == "--socket" ]] && socket_args=(--socket "${words[j+1]}"); done
      COMPREPLY=($(compgen -W "$(dynamodctl "${socket_args[@]}" list --names 2>/dev/null)" -- "$cur")) ;;
    shutdown) COMPREPLY=($(compgen -W "poweroff reboot halt" -- "$cur")) ;;
  esac
}
complete -F _dynamodctl dynamodctl
