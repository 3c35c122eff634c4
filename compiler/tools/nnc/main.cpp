// nnc: the command-line compiler and trainer for .nn models.
//
// The command table below is the one place a command and its flags are
// declared: parsing, `nnc --help` and `nnc <command> --help` read it. Each
// command is a file of its own (CmdTrain.cpp, ...); docs/architecture.md
// says how to add one.
#include "Distributed.h"
#include "Driver.h"
#include "Options.h"

#include "nnc/Optimizers/Optimizers.h"

#include "llvm/Support/InitLLVM.h"

#include <iostream>
#include <string>

using namespace nnc::tool;

namespace {

// Flags several commands take are declared once here and shared, so that
// one name is one flag (with or without a value) in every command.
const Flag kModel = {"model", "NAME", "the model to use when the file has several"};
const Flag kBatch = {"batch", "N", "batch size (default: the train block's, else 32)"};
// The names of the optimizer table, "sgd|adam|...", kept for the program's life.
const char *optimizerMetavar() {
  static const std::string names = nnc::optim::optimizerNames("|", "|");
  return names.c_str();
}
const Flag kOptimizer = {"optimizer", optimizerMetavar(),
                         "the optimizer compiled in (default: the train block's, else adam)"};
const Flag kTargetCPU = {"target-cpu", "CPU", "the CPU to generate code for (default: this one)"};
const Flag kCheckpoint = {"checkpoint", "CKPT", "a checkpoint written by nnc train --save"};

std::vector<Flag> withCodegen(std::vector<Flag> own) {
  for (const Flag &f : {kModel, kBatch, kOptimizer, kTargetCPU})
    own.push_back(f);
  return own;
}

int cmdCompletion(const Args &);

const std::vector<Command> &commands() {
  static const std::vector<Command> table = {
      {"train", "compile the model and train it with its train block", cmdTrain,
       withCodegen({
           {"data", "PATH", "the training data (default: the train block's)"},
           {"epochs", "N", "epochs to train (default: the train block's)"},
           {"lr", "X", "learning rate (default: the train block's, else Keras's)"},
           {"schedule", "SPEC",
            "learning-rate schedule: constant, step(every, gamma),\n"
            "exponential(gamma), cosine(warmup, min_lr) or\n"
            "plateau(factor, patience, threshold, cooldown, min_lr),\n"
            "e.g. 'cosine(warmup = 100)' (default: the train block's)"},
           {"monitor", "METRIC",
            "what early stopping, plateau and --save-best watch: val_loss,\n"
            "loss, val_accuracy or accuracy (default: val_loss with\n"
            "validation data, else loss)"},
           {"early-stopping", "N",
            "stop when the monitored metric has not improved for N\n"
            "epochs, and restore the best epoch's parameters"},
           {"save-best", "CKPT", "write the best epoch's checkpoint (by the monitor) to CKPT"},
           {"clip-norm", "X",
            "scale each step's gradient down to global L2 norm X when\n"
            "it is larger (default: the train block's clip_norm, else none)"},
           {"seed", "N", "seed of the initial parameters, the split and the shuffles"},
           {"save", "CKPT", "write the parameters, optimizer state and metadata to CKPT"},
           {"metrics-out", "FILE",
            "write the final loss, accuracy and times, and each epoch's\n"
            "(\"history\"), as JSON"},
           {"plot", "FILE", "draw the run's loss and accuracy curves as SVG (nnc plot)"},
           {"quiet", nullptr, "no progress lines"},
           {"resume", "CKPT",
            "continue the run CKPT saved (parameters, optimizer state,\n"
            "epoch and step)"},
           {"init", "CKPT",
            "start from the parameters of CKPT that have the same names\n"
            "(e.g. a pretrained encoder; the others start fresh)"},
           {"sample-every", "N", "text models: print a greedy sample every N epochs"},
           {"check-numerics", nullptr,
            "check every parameter is finite after every step (the\n"
            "loss of every step is always checked)"},
       })},
      {"predict", "classify rows of a CSV file (or stdin) with a checkpoint", cmdPredict,
       withCodegen({
           kCheckpoint,
           {"input", "FILE|-", "the CSV rows to predict (default: - for stdin)"},
       })},
      {"generate", "write text with a trained recurrent or attention model", cmdGenerate,
       withCodegen({
           kCheckpoint,
           {"prompt", "TEXT", "the text to continue"},
           {"tokens", "N", "tokens to write (default 50)"},
           {"temperature", "T", "sample at temperature T (default: greedy)"},
           {"top-k", "K", "sample from the K most probable tokens"},
           {"top-p", "P", "sample from the most probable tokens up to probability P"},
           {"seed", "S", "seed of the sampling"},
           {"recompute", nullptr,
            "run the whole window again for every token instead of\n"
            "the step"},
       })},
      {"chat", "answer questions about stories with a model trained on bAbI data", cmdChat,
       withCodegen({
           {"checkpoint", "CKPT",
            "a checkpoint of a model trained on data babi(...); stdin gives\n"
            "story lines, then a question ending with '?' (answered as\n"
            "'yes (0.97)'); an empty line starts a new story"},
       })},
      {"compile",
       "write DIR/lib<model>.a and DIR/<model>.h (from a .nn file, or the .mlir --emit=nn printed)",
       cmdCompile,
       withCodegen({
           {"o", "DIR", "the directory to write the object, library and header to"},
           {"emit", "STAGE",
            "print a stage instead: ast, nn, nn-train, linalg, buffers,\n"
            "llvm-dialect, llvm or asm (--emit=STAGE)"},
       })},
      {"summary", "print the layers, output shapes and parameter counts", cmdSummary,
       withCodegen({})},
      {"plot",
       "draw the loss and accuracy curves of nnc train --metrics-out's file as SVG",
       cmdPlot,
       {{"o", "FILE", "the SVG to write (default: the metrics file's name with .svg)"}}},
      {"completion",
       "print a bash completion script (source <(nnc completion))",
       cmdCompletion,
       {}},
  };
  return table;
}

int cmdCompletion(const Args &) {
  printBashCompletion(std::cout, commands());
  return 0;
}

const Command *findCommand(const std::string &name) {
  for (const Command &c : commands())
    if (name == c.name)
      return &c;
  return nullptr;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  Args a = parseArgs(argc, argv, commands());
  const Command *c = findCommand(a.command);
  // `nnc help train` is `nnc train --help`.
  if (a.command == "help" && !a.file.empty())
    c = findCommand(a.file);
  if (a.has("help") || a.command == "help" || argc < 2) {
    if (c)
      printCommandHelp(std::cout, *c);
    else
      printUsage(std::cout, commands());
    if (!c || c->name == std::string("train"))
      std::cout << mpiDescription() << "\n";
    return argc < 2 ? 1 : 0;
  }
  for (const std::string &e : a.errors)
    std::cerr << "nnc: error: " << e << "\n";
  if (!a.errors.empty())
    return 1;
  if (!c) {
    std::cerr << "nnc: error: unknown command '" << a.command << "'\n";
    printUsage(std::cerr, commands());
    return 1;
  }
  return c->run(a);
}
