// Options.cpp: parsing and help text from the command table.
#include "Options.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace nnc::tool {

namespace {

// The same flag name means the same flag in every command (main.cpp shares
// the Flag), so whether it takes a value can be known before the command.
const Flag *findAny(const std::vector<Command> &commands, const std::string &name) {
  for (const Command &c : commands)
    if (const Flag *f = c.find(name))
      return f;
  return nullptr;
}

const Command *findCommand(const std::vector<Command> &commands, const std::string &name) {
  for (const Command &c : commands)
    if (name == c.name)
      return &c;
  return nullptr;
}

std::string flagList(const Command &c) {
  std::string s;
  for (const Flag &f : c.flags)
    s += (s.empty() ? "" : ", ") + spelled(f.name);
  return s;
}

std::string withValue(const Flag &f) {
  std::string s = spelled(f.name);
  if (f.metavar)
    s += std::string(" ") + f.metavar;
  return s;
}

// `words` wrapped at `width` columns after `indent` spaces.
void wrap(std::ostream &os, const std::vector<std::string> &words, size_t indent, size_t width) {
  size_t col = indent;
  os << std::string(indent, ' ');
  bool first = true;
  for (const std::string &w : words) {
    if (!first && col + 1 + w.size() > width) {
      os << "\n" << std::string(indent, ' ');
      col = indent;
      first = true;
    }
    os << (first ? "" : " ") << w;
    col += (first ? 0 : 1) + w.size();
    first = false;
  }
  os << "\n";
}

} // namespace

const Flag *Command::find(const std::string &flag) const {
  for (const Flag &f : flags)
    if (flag == f.name)
      return &f;
  return nullptr;
}

std::string spelled(const std::string &name) { return (name.size() == 1 ? "-" : "--") + name; }

Args parseArgs(int argc, char **argv, const std::vector<Command> &commands) {
  Args a;
  std::vector<std::string> given; // flag names in the order given
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s.size() > 1 && s[0] == '-' && s != "-") {
      std::string name = s.substr(s[1] == '-' ? 2 : 1), value;
      bool inlineValue = false;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        inlineValue = true;
      }
      const Flag *f = findAny(commands, name);
      if (!f && name != "help") {
        a.errors.push_back("unknown option '" + s + "' (see nnc --help)");
        continue;
      }
      if (f && f->metavar && !inlineValue) {
        if (i + 1 >= argc) {
          a.errors.push_back("option '" + s + "' expects a value");
          continue;
        }
        value = argv[++i];
      }
      if (!a.opts.count(name))
        given.push_back(name);
      a.opts[name] = value;
    } else if (a.command.empty()) {
      a.command = s;
    } else if (a.file.empty()) {
      a.file = s;
    } else {
      a.errors.push_back("unexpected argument '" + s + "'");
    }
  }
  if (const Command *c = findCommand(commands, a.command))
    for (const std::string &name : given)
      if (name != "help" && !c->find(name))
        a.errors.push_back(a.command + " does not take " + spelled(name) +
                           " (its flags: " + flagList(*c) + "; see nnc " + a.command + " --help)");
  return a;
}

void printUsage(std::ostream &os, const std::vector<Command> &commands) {
  os << "usage: nnc <command> MODEL.nn [options]\n"
        "commands (nnc <command> --help describes its flags):\n";
  for (const Command &c : commands) {
    std::string name = c.name;
    os << "  " << name << std::string(name.size() < 10 ? 10 - name.size() : 1, ' ') << c.summary
       << "\n";
    std::vector<std::string> words;
    for (const Flag &f : c.flags)
      words.push_back(withValue(f)); // a flag and its value stay on one line
    wrap(os, words, 12, 79);
  }
  os << "train, predict, generate and chat keep the compiled model in\n"
        "$NNC_CACHE_DIR (default ~/.cache/nnc) and reuse it while the model, the\n"
        "options and nnc are the same; NNC_CACHE=0 turns that off. LLVM's part of\n"
        "every compile runs on all cores; NNC_COMPILE_THREADS=N sets how many.\n";
}

void printCommandHelp(std::ostream &os, const Command &c) {
  os << "usage: nnc " << c.name << " MODEL.nn [flags]\n" << c.summary << "\nflags:\n";
  // A flag wider than this gets its help on the next line, so that one
  // long value list does not push every help text to the right.
  constexpr size_t kMaxColumn = 18;
  size_t w = std::strlen("--help");
  for (const Flag &f : c.flags)
    if (withValue(f).size() <= kMaxColumn)
      w = std::max(w, withValue(f).size());
  auto row = [&](const std::string &left, const char *help) {
    os << "  " << left;
    if (left.size() > w)
      os << "\n" << std::string(w + 4, ' ');
    else
      os << std::string(w + 2 - left.size(), ' ');
    for (const char *p = help; *p; ++p) {
      os << *p;
      if (*p == '\n')
        os << std::string(w + 4, ' ');
    }
    os << "\n";
  };
  for (const Flag &f : c.flags)
    row(withValue(f), f.help);
  row("--help", "this list");
}

std::optional<int64_t> parseInt(const std::string &flag, const std::string &s, int64_t min,
                                std::string &err) {
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end || errno || v < min) {
    err = "--" + flag + " expects an integer >= " + std::to_string(min) + ", got '" + s + "'";
    return std::nullopt;
  }
  return v;
}

std::optional<double> parseFloat(const std::string &flag, const std::string &s, std::string &err) {
  char *end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end || !std::isfinite(v) || v <= 0) {
    err = "--" + flag + " expects a positive number, got '" + s + "'";
    return std::nullopt;
  }
  return v;
}

} // namespace nnc::tool
