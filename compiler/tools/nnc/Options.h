// Options.h: the command table's types and the parser that checks a command
// line against the flags its command declares. A flag is declared once, in
// main.cpp's table; the parser, `nnc --help` and `nnc <command> --help` all
// read it, so the help cannot drift from what is accepted.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace nnc::tool {

struct Flag {
  const char *name;    // without dashes; one letter is written -o, others --name
  const char *metavar; // the value's placeholder, nullptr for a switch
  const char *help;    // '\n' continues on an indented line
};

struct Args {
  std::string command, file;
  std::map<std::string, std::string> opts; // --name value, or "" for a switch
  std::vector<std::string> errors;         // malformed command line
  // Flags some command takes but not this one: reported once the command is
  // known to exist (an unknown command's message comes first).
  std::vector<std::string> notTaken;

  bool has(const std::string &k) const { return opts.count(k); }
  std::string get(const std::string &k, const std::string &def = "") const {
    auto it = opts.find(k);
    return it == opts.end() ? def : it->second;
  }
};

struct Command {
  const char *name;
  const char *summary; // one line for `nnc --help`
  int (*run)(const Args &);
  std::vector<Flag> flags;

  const Flag *find(const std::string &flag) const;
};

// Options may come before the command (`nnc --epochs 3 train M.nn`): the
// first argument that is neither a flag nor a flag's value is the command.
Args parseArgs(int argc, char **argv, const std::vector<Command> &commands);

// `nnc --help`: every command with its flags, one compact block each.
void printUsage(std::ostream &os, const std::vector<Command> &commands);
// `nnc <command> --help`: its flags, one per line with their help.
void printCommandHelp(std::ostream &os, const Command &c);

// `nnc completion`: a bash completion script for the commands and flags.
void printBashCompletion(std::ostream &os, const std::vector<Command> &commands);

// "--lr" or "-o", as the user writes it.
std::string spelled(const std::string &name);

std::optional<int64_t> parseInt(const std::string &flag, const std::string &s, int64_t min,
                                std::string &err);
std::optional<double> parseFloat(const std::string &flag, const std::string &s, std::string &err);

} // namespace nnc::tool
