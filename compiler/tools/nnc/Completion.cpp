// Completion.cpp: `nnc completion`, a bash completion script written from
// the command table, so that it knows every command and flag the parser
// accepts and cannot drift from them. Flag values complete by their
// metavar: file names for paths, the optimizer, schedule and monitor names
// from their tables.
#include "Options.h"

#include "nnrt/nnrt.h"

#include <set>
#include <sstream>

namespace nnc::tool {

namespace {

bool isPath(const std::string &metavar) {
  static const std::set<std::string> paths = {"PATH", "CKPT", "FILE", "FILE|-", "DIR"};
  return paths.count(metavar) > 0;
}

// The words a value of `metavar` can be; empty when it is free text.
std::string valueWords(const std::string &metavar) {
  if (metavar.find('|') != std::string::npos && !isPath(metavar)) {
    std::string words = metavar;
    for (char &c : words)
      c = c == '|' ? ' ' : c;
    return words;
  }
  if (metavar == "METRIC")
    return "val_loss loss val_accuracy accuracy";
  if (metavar == "SPEC") {
    std::string words;
    for (int k = 0; k < NNRT_SCHEDULE_COUNT; ++k) {
      nnrt_schedule s{};
      s.kind = k;
      words += std::string(k ? " " : "") + nnrt_schedule_name(&s);
    }
    return words;
  }
  return "";
}

} // namespace

void printBashCompletion(std::ostream &os, const std::vector<Command> &commands) {
  std::string names, valueFlags;
  std::ostringstream flagsByCommand, values;
  std::set<std::string> seen;
  for (const Command &c : commands) {
    names += std::string(names.empty() ? "" : " ") + c.name;
    flagsByCommand << "    " << c.name << ") flags=\"--help";
    for (const Flag &f : c.flags) {
      flagsByCommand << " " << spelled(f.name);
      if (!f.metavar || !seen.insert(f.name).second)
        continue;
      valueFlags += std::string(valueFlags.empty() ? "" : "|") + spelled(f.name);
      if (isPath(f.metavar))
        values << "    " << spelled(f.name)
               << ") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n";
      else if (std::string w = valueWords(f.metavar); !w.empty())
        values << "    " << spelled(f.name) << ") COMPREPLY=($(compgen -W \"" << w
               << "\" -- \"$cur\")); return ;;\n";
    }
    flagsByCommand << "\" ;;\n";
  }
  os << "# bash completion for nnc, written by `nnc completion` from its command table.\n"
        "# Use: source <(nnc completion), or save it as\n"
        "# /usr/share/bash-completion/completions/nnc.\n"
        "_nnc() {\n"
        "  local cur=${COMP_WORDS[COMP_CWORD]} prev=\"\" cmd=\"\" i\n"
        "  ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD-1]}\n"
        "  COMPREPLY=()\n"
        "  # The command: the first word that is neither a flag nor a flag's value.\n"
        "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
        "    case ${COMP_WORDS[i]} in\n"
        "      "
     << valueFlags
     << ") ((i++)) ;;\n"
        "      -*) ;;\n"
        "      *) cmd=${COMP_WORDS[i]}; break ;;\n"
        "    esac\n"
        "  done\n"
        "  case $prev in\n"
     << values.str()
     << "  esac\n"
        "  if [[ -z $cmd && $cur != -* ]]; then\n"
        "    COMPREPLY=($(compgen -W \""
     << names
     << " help\" -- \"$cur\"))\n"
        "    return\n"
        "  fi\n"
        "  local flags=\"--help\"\n"
        "  case $cmd in\n"
     << flagsByCommand.str()
     << "  esac\n"
        "  if [[ $cur == -* ]]; then\n"
        "    COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n"
        "  else\n"
        "    # The model: .nn files and directories.\n"
        "    COMPREPLY=($(compgen -f -X '!*.nn' -- \"$cur\") $(compgen -f -X '!*.mlir' -- "
        "\"$cur\")\n"
        "               $(compgen -d -- \"$cur\"))\n"
        "  fi\n"
        "}\n"
        "complete -o filenames -F _nnc nnc\n";
}

} // namespace nnc::tool
