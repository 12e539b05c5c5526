# Kaldi-style command-line options for recipes. Source it; do not run it.
#
# Every top-level `name=value` line of the recipe ABOVE the line that sources this file declares
# an option (so declaring a variable is all it takes, as in Kaldi); a trailing `# text` on that
# line is the option's help. Put helper variables that are not options below the source line.
#
#   stage=0        # first stage to run
#   nj=4           # parallel jobs
#   help_message="Usage: $0 [options]"     # (not an option) printed by --help
#   . "$(dirname "$0")/../../recipes/parse_options.sh"
#
# Accepted forms: --name value, --name=value; dashes in a name map to underscores
# (--stop-stage == --stop_stage). An option whose default is true/false only takes true/false.
# --config FILE reads `name=value` lines (declared names only) before the command-line options,
# so the command line wins. --help prints the usage and the options with their defaults.
# An unknown option, or one without a value, is an error (exit 1). Parsing stops at the first
# argument that does not start with -- (or after a lone --); the rest stays in "$@".
#
# Unlike Kaldi's parse_options.sh, only declared options are accepted: `--PATH x` or a typo such
# as `--stop-stgae 3` fails instead of silently setting some environment variable.
#
# Sets, for the recipe's use: recipe_options (array of option names), recipe_cmdline (the command
# line, shell-quoted, for logs).

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  echo "parse_options.sh: source this file from a recipe, do not run it" >&2
  exit 2
fi

_po_script=${BASH_SOURCE[1]:-}
_po_prog=$(basename -- "${0}")
if [ -z "$_po_script" ] || [ ! -r "$_po_script" ]; then
  echo "$_po_prog: parse_options.sh cannot read the recipe that sourced it ('$_po_script')" >&2
  exit 2
fi

printf -v recipe_cmdline '%q ' "$0" "$@"
recipe_cmdline=${recipe_cmdline% }

# --- the declared options: top-level assignments above the line that sources this file ---
recipe_options=()
declare -A _po_help=() _po_default=()
while IFS= read -r _po_line || [ -n "$_po_line" ]; do
  if [[ $_po_line == *parse_options.sh* && ! $_po_line =~ ^[[:space:]]*# ]]; then
    break
  fi
  [[ $_po_line =~ ^([A-Za-z][A-Za-z0-9_]*)= ]] || continue
  _po_name=${BASH_REMATCH[1]}
  [ "$_po_name" = help_message ] && continue
  if [ -z "${!_po_name+set}" ]; then
    echo "$_po_prog: option '$_po_name' is declared in $_po_script but not set" >&2
    exit 2
  fi
  [ -n "${_po_default[$_po_name]+set}" ] || recipe_options+=("$_po_name")
  _po_default[$_po_name]=${!_po_name}
  _po_help[$_po_name]=""
  if [[ $_po_line =~ ^.*[[:space:]]#[[:space:]]*(.*)$ ]]; then
    _po_help[$_po_name]=${BASH_REMATCH[1]}
  fi
done < "$_po_script"

_po_print_help() {
  local name width=0
  echo "${help_message:-Usage: $_po_prog [options]}"
  echo
  echo "Options (--name value or --name=value; dashes and underscores are interchangeable):"
  for name in "${recipe_options[@]}" config help; do
    (( ${#name} > width )) && width=${#name}
  done
  for name in "${recipe_options[@]}"; do
    printf '  --%-*s  %s [default: %s]\n' "$width" "$name" "${_po_help[$name]}" "'${_po_default[$name]}'"
  done
  printf '  --%-*s  %s\n' "$width" config "read name=value lines from FILE before the command-line options"
  printf '  --%-*s  %s\n' "$width" help "print this message"
}

_po_fail() {
  echo "$_po_prog: $*" >&2
  echo "$_po_prog: run '$_po_prog --help' for the list of options" >&2
  exit 1
}

# _po_set NAME VALUE ORIGIN: set a declared option, with the checks every source of values shares.
_po_set() {
  local name=${1//-/_} value=$2 origin=$3
  [[ $name =~ ^[A-Za-z][A-Za-z0-9_]*$ && -n "${_po_default[$name]+set}" ]] || _po_fail "unknown option --$1 ($origin)"
  case ${_po_default[$name]} in
    true|false)
      [[ $value == true || $value == false ]] ||
        _po_fail "option --$name takes true or false, got '$value' ($origin)" ;;
  esac
  printf -v "$name" '%s' "$value"
}

_po_read_config() {
  local file=$1 lineno=0 line
  [ -r "$file" ] || _po_fail "cannot read config file '$file' (--config)"
  while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    [[ $line =~ ^[[:space:]]*(#.*)?$ ]] && continue
    [[ $line =~ ^([A-Za-z][A-Za-z0-9_]*)= ]] || _po_fail "$file:$lineno: expected name=value, got '$line'"
    [ -n "${_po_default[${BASH_REMATCH[1]}]+set}" ] || _po_fail "$file:$lineno: unknown option '${BASH_REMATCH[1]}'"
  done < "$file"
  # shellcheck disable=SC1090  # validated above: declared name=value lines only
  . "$file"
}

# --- config files first, so that command-line options override them (Kaldi's order) ---
_po_args=("$@")
for ((_po_i = 0; _po_i < ${#_po_args[@]}; _po_i++)); do
  case ${_po_args[_po_i]} in
    --) break ;;
    --config) _po_read_config "${_po_args[_po_i + 1]:-}"; _po_i=$((_po_i + 1)) ;;
    --config=*) _po_read_config "${_po_args[_po_i]#--config=}" ;;
    --*) [[ ${_po_args[_po_i]} == *=* || ${_po_args[_po_i]} == --help ]] || _po_i=$((_po_i + 1)) ;;
    *) break ;;
  esac
done

# --- command-line options ---
while [ $# -gt 0 ]; do
  case $1 in
    --) shift; break ;;
    --help|-h) _po_print_help; exit 0 ;;
    --config) [ $# -ge 2 ] || _po_fail "option --config needs a value"; shift 2 ;;
    --config=*) shift ;;
    --*=*)
      _po_name=${1%%=*}
      _po_set "${_po_name#--}" "${1#*=}" "command line"
      shift ;;
    --*)
      [ $# -ge 2 ] || _po_fail "option $1 needs a value"
      _po_set "${1#--}" "$2" "command line"
      shift 2 ;;
    *) break ;;
  esac
done

unset _po_script _po_prog _po_line _po_name _po_args _po_i _po_help _po_default
unset -f _po_set _po_read_config _po_print_help _po_fail
